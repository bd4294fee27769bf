{#- Phase completion per game date: the latest completion record per phase (run_day or reconcile)
    and the latest execution-log status of that phase's step. -#}

with

phase_completions as (
    select * from {{ source('ops', 'phase_completions') }}
),

execution_log as (
    select * from {{ source('ops', 'pipeline_execution_log') }}
),

latest_completion as (
    select
        *,
        row_number() over (
            partition by game_date, phase
            order by recorded_at desc, completion_id asc
        ) as recency_rank
    from phase_completions
),

latest_step as (
    select
        game_date,
        phase,
        status as last_step_status,
        finished_at as last_step_finished_at,
        row_number() over (
            partition by game_date, phase
            order by finished_at desc, log_id asc
        ) as recency_rank
    from execution_log
    where node_type = 'step' and game_date is not null
),

final as (
    select
        -- ids
        {{ dbt.hash(dbt.concat([
            "cast(latest_completion.game_date as " ~ dbt.type_string() ~ ")",
            "'|'",
            "latest_completion.phase",
        ])) }} as phase_completion_id,
        latest_completion.run_id,
        latest_completion.correlation_id,
        latest_completion.phase,
        -- dates
        latest_completion.game_date,
        -- flags
        latest_completion.status = 'complete' as is_complete,
        -- numerics and text
        latest_completion.status as completion_status,
        latest_completion.row_count,
        latest_completion.recorded_by,
        latest_step.last_step_status,
        -- timestamps
        latest_completion.recorded_at,
        latest_step.last_step_finished_at
    from latest_completion
    left join latest_step
        on
            latest_completion.game_date = latest_step.game_date
            and latest_completion.phase = latest_step.phase
            and latest_step.recency_rank = 1
    where latest_completion.recency_rank = 1
)

select * from final

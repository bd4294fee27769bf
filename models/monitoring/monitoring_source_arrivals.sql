{#- Late and missing Phase 1 sources per game date: the latest tiered-wait record per source. -#}

with

source_waits as (
    select * from {{ source('ops', 'source_waits') }}
),

latest as (
    select
        *,
        row_number() over (
            partition by game_date, source_name
            order by recorded_at desc
        ) as recency_rank
    from source_waits
),

final as (
    select
        -- ids
        {{ dbt.hash(dbt.concat(["cast(game_date as " ~ dbt.type_string() ~ ")", "'|'", "source_name"])) }}
            as source_arrival_id,
        run_id,
        correlation_id,
        source_name,
        -- dates
        game_date,
        -- flags
        arrived_at is null as is_missing,
        -- late only when observed: a source ready at the first check may have come any time before
        (arrived_at is null or arrived_at > first_checked_at)
        and {{ dbt.datediff("expected_at", "coalesce(arrived_at, recorded_at)", "minute") }}
        > {{ run_var('late_alert_minutes', 240) }} as is_late,
        -- numerics
        {{ dbt.datediff("expected_at", "coalesce(arrived_at, recorded_at)", "minute") }} as minutes_after_expected,
        tier,
        -- timestamps
        expected_at,
        first_checked_at,
        arrived_at,
        recorded_at
    from latest
    where recency_rank = 1
)

select * from final

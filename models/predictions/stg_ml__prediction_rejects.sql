-- depends_on: {{ ref('ml_feature_store') }}
-- The Python scoring step (python_jobs/ml/scoring.py) reads ml_feature_store and writes raw.prediction_rejects;
-- the depends_on above makes that step visible in the DAG (dbt build order, docs lineage).
-- Feature rows refused by the scoring job, latest run per (system, player, date, reason).
with

rejects as (
    select * from {{ source('ml', 'prediction_rejects') }}
),

ranked as (
    select
        rejects.*,
        row_number() over (
            partition by rejects.system_id, rejects.player_id, rejects.game_date, rejects.reason_code
            order by rejects.rejected_at desc, rejects.prediction_run_id desc
        ) as reject_rank
    from rejects
),

final as (
    select
        -- ids
        {{ dbt.hash(
            "system_id || '|' || coalesce(cast(player_id as " ~ dbt.type_string() ~ "), '') || '|' || "
            ~ "coalesce(cast(game_date as " ~ dbt.type_string() ~ "), '') || '|' || reason_code"
        ) }} as prediction_reject_id,
        system_id,
        player_id,
        game_date,
        feature_row_id,
        prediction_run_id,
        correlation_id,
        -- reason
        reason_code,
        reason,
        -- timestamps
        rejected_at
    from ranked
    where reject_rank = 1
)

select * from final

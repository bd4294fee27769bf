-- depends_on: {{ ref('ml_feature_store') }}
-- The Python scoring step (python_jobs/ml/scoring.py) reads ml_feature_store and writes raw.prediction_scores;
-- the depends_on above makes that step visible in the DAG (dbt build order, docs lineage).
-- The latest score per (system_id, player_id, game_date, line_source): a rerun of the scoring job
-- supersedes earlier runs; ties on scored_at are broken by the run id so the pick is deterministic.
with

scores as (
    select * from {{ source('ml', 'prediction_scores') }}
    -- every partition (a view: player_prop_predictions filters the run's date on top of it)
    where {{ all_partitions_filter('game_date') }}
),

ranked as (
    select
        scores.*,
        row_number() over (
            partition by scores.system_id, scores.player_id, scores.game_date, scores.line_source
            order by scores.scored_at desc, scores.prediction_run_id desc
        ) as score_rank
    from scores
),

final as (
    select
        -- ids
        {{ dbt.hash(
            "system_id || '|' || cast(player_id as " ~ dbt.type_string() ~ ") || '|' || "
            ~ "cast(game_date as " ~ dbt.type_string() ~ ") || '|' || line_source"
        ) }} as prediction_id,
        system_id,
        model_version,
        player_id,
        game_date,
        game_id,
        line_source,
        feature_row_id,
        prediction_run_id,
        correlation_id,
        -- line
        line_points,
        line_bookmakers,
        over_price,
        under_price,
        -- numerics
        predicted_points,
        prediction_std,
        edge,
        confidence,
        recommendation,
        feature_quality_score,
        p_over,
        calibration_version,
        best_book,
        best_price,
        expected_value,
        -- timestamps
        features_computed_at,
        scored_at
    from ranked
    where score_rank = 1
)

select * from final

{{ config(materialized='table') }}
-- Phase 5 -> 6 reconciliation: per system and date, the predictions whose game has results
-- (counted here from player_prop_predictions and the box scores, independently of
-- prediction_accuracy) against the rows prediction_accuracy graded. tests/grading fails on any
-- difference and shows both counts.
with

predictions as (
    select * from {{ ref('player_prop_predictions') }}
    -- every partition: the grading tables are rebuilt over all predictions
    where {{ all_partitions_filter('game_date') }}
),

game_logs as (
    select * from {{ ref('stg_nba__player_game_logs') }}
),

accuracy as (
    select * from {{ ref('prediction_accuracy') }}
),

finished_predictions as (
    select
        predictions.system_id,
        predictions.game_date,
        count(*) as n_predictions_of_finished_games
    from predictions
    where
        exists (
            select 1 from game_logs
            where game_logs.game_id = predictions.game_id
        )
        or exists (
            select 1 from game_logs
            where
                game_logs.player_id = predictions.player_id
                and game_logs.game_date = predictions.game_date
        )
    group by predictions.system_id, predictions.game_date
),

graded as (
    select
        system_id,
        game_date,
        count(*) as n_graded_rows,
        count(distinct prediction_id) as n_distinct_graded_predictions
    from accuracy
    group by system_id, game_date
),

final as (
    select
        -- ids
        coalesce(finished_predictions.system_id, graded.system_id) as system_id,
        coalesce(finished_predictions.game_date, graded.game_date) as game_date,
        -- counts
        coalesce(finished_predictions.n_predictions_of_finished_games, 0) as n_predictions_of_finished_games,
        coalesce(graded.n_graded_rows, 0) as n_graded_rows,
        coalesce(graded.n_distinct_graded_predictions, 0) as n_distinct_graded_predictions,
        -- flags
        coalesce(finished_predictions.n_predictions_of_finished_games, 0) = coalesce(graded.n_graded_rows, 0)
        and coalesce(graded.n_graded_rows, 0) = coalesce(graded.n_distinct_graded_predictions, 0)
            as is_reconciled
    from finished_predictions
    full outer join graded
        on
            finished_predictions.system_id = graded.system_id
            and finished_predictions.game_date = graded.game_date
)

select * from final

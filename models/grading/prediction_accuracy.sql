{{ config(materialized='table') }}
-- One row per prediction of a finished game (a game whose box-score rows are in the warehouse).
-- graded: the player has a box-score row that date; void: he has none although his game has
-- results (the box scores hold no DNP rows). Predictions of games without results yet are pending
-- and are not in this table (they enter it on the build after their results land).
with

predictions as (
    select * from {{ ref('player_prop_predictions') }}
    -- every partition: the grading tables are rebuilt over all predictions
    where {{ all_partitions_filter('game_date') }}
),

game_logs as (
    select * from {{ ref('stg_nba__player_game_logs') }}
),

games_with_results as (
    select distinct game_id
    from game_logs
),

player_results as (
    select
        player_id,
        game_date,
        game_id,
        points,
        minutes
    from game_logs
),

joined as (
    select
        predictions.*,
        player_results.points as actual_points,
        player_results.minutes as actual_minutes,
        player_results.game_id as result_game_id,
        games_with_results.game_id is not null as has_game_results
    from predictions
    left join player_results
        on
            predictions.player_id = player_results.player_id
            and predictions.game_date = player_results.game_date
    left join games_with_results
        on predictions.game_id = games_with_results.game_id
),

finished as (
    select
        joined.*,
        case when joined.actual_points is not null then 'graded' else 'void' end as grade_status
    from joined
    where joined.actual_points is not null or joined.has_game_results
),

{{ grade_predictions('finished') }},

final as (
    select
        -- ids
        prediction_id,
        system_id,
        model_version,
        player_id,
        game_date,
        game_id,
        line_source,
        -- prediction
        line_points,
        over_price,
        under_price,
        best_book,
        best_price,
        predicted_points,
        prediction_std,
        edge,
        confidence,
        p_over,
        recommendation,
        is_bet,
        lean_side,
        -- outcome
        grade_status,
        grade_status = 'void' as is_void,
        actual_points,
        actual_minutes,
        actual_side,
        bet_result,
        lean_result,
        bet_price,
        -- numerics
        absolute_error,
        signed_error,
        line_absolute_error,
        profit_units,
        -- timestamps
        scored_at,
        {{ dbt.current_timestamp() }} as graded_at
    from graded_profit
)

select * from final

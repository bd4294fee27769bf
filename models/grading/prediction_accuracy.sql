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

sides as (
    select
        finished.*,
        case
            when finished.grade_status <> 'graded' or finished.line_points is null then null
            when finished.actual_points > finished.line_points then 'OVER'
            when finished.actual_points < finished.line_points then 'UNDER'
            else 'PUSH'
        end as actual_side,
        case
            when finished.edge > 0 then 'OVER'
            when finished.edge < 0 then 'UNDER'
        end as lean_side,
        finished.recommendation in ('OVER', 'UNDER') as is_bet,
        -- an American price is <= -100 or >= +100; anything between is not a price (unpriced bet)
        case
            when finished.recommendation = 'OVER' and abs(finished.over_price) >= 100 then finished.over_price
            when finished.recommendation = 'UNDER' and abs(finished.under_price) >= 100 then finished.under_price
        end as bet_price
    from finished
),

results as (
    select
        sides.*,
        case
            when not sides.is_bet then null
            when sides.grade_status = 'void' then 'void'
            when sides.actual_side = 'PUSH' then 'push'
            when sides.actual_side = sides.recommendation then 'hit'
            else 'miss'
        end as bet_result,
        case
            when sides.lean_side is null or sides.grade_status = 'void' then null
            when sides.actual_side = 'PUSH' then 'push'
            when sides.actual_side = sides.lean_side then 'hit'
            else 'miss'
        end as lean_result
    from sides
),

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
        predicted_points,
        prediction_std,
        edge,
        confidence,
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
        case when grade_status = 'graded' then abs(actual_points - predicted_points) end as absolute_error,
        case when grade_status = 'graded' then actual_points - predicted_points end as signed_error,
        case
            when grade_status = 'graded' and line_points is not null then abs(actual_points - line_points)
        end as line_absolute_error,
        case
            when bet_result in ('push', 'void') then 0.0
            when bet_price is null then null
            when bet_result = 'miss' then -1.0
            when bet_result = 'hit' and bet_price > 0 then bet_price / 100.0
            when bet_result = 'hit' then 100.0 / abs(bet_price)
        end as profit_units,
        -- timestamps
        scored_at,
        {{ dbt.current_timestamp() }} as graded_at
    from results
)

select * from final

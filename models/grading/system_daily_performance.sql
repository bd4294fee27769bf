{{ config(materialized='table') }}
-- Per system and game date: predictions graded, bets, hit rate with its Wilson 95% interval (macro
-- wilson_bound, the one SQL Wilson; python_jobs/ml/metrics.wilson_interval is its Python twin, tested equal), MAE of
-- the model and of the line on the same rows, and ROI at the recorded prices (each bet's
-- prediction_accuracy.bet_price: its best price when recorded).
with

accuracy as (
    select * from {{ ref('prediction_accuracy') }}
),

counts as (
    select
        system_id,
        game_date,
        count(*) as n_predictions,
        count(case when grade_status = 'graded' then 1 end) as n_graded,
        count(case when grade_status = 'void' then 1 end) as n_void,
        count(case when line_points is not null and grade_status = 'graded' then 1 end) as n_graded_with_line,
        count(case when is_bet and grade_status = 'graded' then 1 end) as n_bets,
        count(case when bet_result = 'void' then 1 end) as n_bets_void,
        count(case when bet_result = 'hit' then 1 end) as hits,
        count(case when bet_result = 'miss' then 1 end) as misses,
        count(case when bet_result = 'push' then 1 end) as pushes,
        count(case when bet_result in ('hit', 'miss', 'push') and profit_units is not null then 1 end)
            as n_bets_priced,
        sum(case when bet_result in ('hit', 'miss', 'push') then profit_units end) as profit_units,
        avg(case when line_points is not null then absolute_error end) as mae_model,
        avg(line_absolute_error) as mae_line,
        avg(absolute_error) as mae_model_all_graded
    from accuracy
    group by system_id, game_date
),

rates as (
    select
        counts.*,
        counts.hits + counts.misses as n_decided,
        cast(counts.hits as double) / nullif(counts.hits + counts.misses, 0) as hit_rate
    from counts
),

final as (
    select
        -- ids
        system_id,
        game_date,
        -- counts
        n_predictions,
        n_graded,
        n_void,
        n_graded_with_line,
        n_bets,
        n_bets_void,
        hits,
        misses,
        pushes,
        -- numerics
        hit_rate,
        {{ wilson_bound('hits', 'n_decided', 'low') }} as wilson_low,
        {{ wilson_bound('hits', 'n_decided', 'high') }} as wilson_high,
        mae_model,
        mae_line,
        mae_model_all_graded,
        coalesce(profit_units, 0) as profit_units,
        n_bets_priced,
        profit_units / nullif(n_bets_priced, 0) as roi
    from rates
)

select * from final

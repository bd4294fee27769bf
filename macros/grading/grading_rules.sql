{#- The grading rules, written once. Used by the dbt models (grading.prediction_accuracy,
    grading.system_daily_performance) and by the Python backtest, which renders these macros with
    plain Jinja (python_jobs/ml/grading.py) and runs the SQL on its frame through an in-memory
    DuckDB Warehouse. Keep them free of dbt-only calls (ref, var, adapter, dbt.*) so they render
    outside dbt. Portable SQL (DuckDB and BigQuery). -#}

{#- One bound of the Wilson score interval of hits / n; null when n = 0, clamped to [0, 1].
    z = 1.96 (95%): the same constant as python_jobs/ml/metrics.Z_95 (tests/python/ml/
    test_one_rule.py fails if the two disagree). -#}
{% macro wilson_bound(hits, n, bound, z=1.96) -%}
    {%- set sign = '-' if bound == 'low' else '+' -%}
    case
        when ({{ n }}) > 0 then
            least(1.0, greatest(0.0, (
                (1.0 * ({{ hits }})) / ({{ n }}) + {{ z }} * {{ z }} / (2.0 * ({{ n }}))
                {{ sign }} {{ z }} * sqrt(
                    ((1.0 * ({{ hits }})) / ({{ n }})) * (1 - (1.0 * ({{ hits }})) / ({{ n }}))
                    / ({{ n }})
                    + {{ z }} * {{ z }} / (4.0 * ({{ n }}) * ({{ n }}))
                )
            ) / (1 + {{ z }} * {{ z }} / ({{ n }}))))
    end
{%- endmacro %}

{#- The lean side of a prediction, THE rule (the one place it is written): the side its calibrated
    P(over) favours, OVER when p_over >= 0.5 (a tie leans OVER), UNDER when p_over < 0.5, none
    without a probability (no line). So the stated confidence (100 x the probability of the lean
    side) is >= 50 by construction. Scoring (python_jobs/ml/predict.py, through
    ml.grading.lean_sides) takes the side of every prediction from this macro, the grading below
    from it too. -#}
{% macro lean_side(p_over) -%}
    case
        when ({{ p_over }}) >= 0.5 then 'OVER'
        when ({{ p_over }}) < 0.5 then 'UNDER'
    end
{%- endmacro %}

{#- The CTEs `grading_sides` and `graded` over the relation or CTE `finished`, which has one row
    per prediction of a finished game with at least grade_status ('graded' / 'void'; anything else
    counts as not gradable yet), line_points, over_price, under_price, best_price, predicted_points,
    p_over, recommendation and actual_points. `graded` adds:
    - actual_side: OVER / UNDER / PUSH (actual vs line) for graded rows with a line;
    - lean_side: macro lean_side of p_over (none without a line);
    - is_bet: recommendation is OVER or UNDER (PASS and NO_LINE are not bets);
    - bet_price: the recorded price of the bet: its `best_price` (the best book's price for the
      recommended side, where the prediction tells the user to place it) when not null, else the
      consensus price of its side; an American price is <= -100 or >= +100, anything between is
      not a price (unpriced bet, null);
    - bet_result: hit / miss / push for a graded bet, void for a bet on a player who did not play,
      null otherwise; lean_result: the same for the lean side, null when void;
    - absolute_error, signed_error (graded rows), line_absolute_error (graded rows with a line);
    - profit_units: 1-unit profit at bet_price (push and void 0, null when unpriced). -#}
{% macro grade_predictions(finished) -%}
    {%- set f = finished ~ '.' -%}
    {%- set side_price = "case when " ~ f ~ "recommendation = 'OVER' then " ~ f ~ "over_price when " ~ f
        ~ "recommendation = 'UNDER' then " ~ f ~ "under_price end" -%}
    {%- set price = 'coalesce(' ~ f ~ 'best_price, ' ~ side_price ~ ')' %}
grading_sides as (
    select
        {{ finished }}.*,
        case
            when {{ finished }}.grade_status <> 'graded' or {{ finished }}.line_points is null then null
            when {{ finished }}.actual_points > {{ finished }}.line_points then 'OVER'
            when {{ finished }}.actual_points < {{ finished }}.line_points then 'UNDER'
            else 'PUSH'
        end as actual_side,
        case
            when {{ finished }}.line_points is not null then {{ lean_side(finished ~ '.p_over') }}
        end as lean_side,
        coalesce({{ finished }}.recommendation in ('OVER', 'UNDER'), false) as is_bet,
        case
            when {{ finished }}.recommendation in ('OVER', 'UNDER') and abs({{ price }}) >= 100 then {{ price }}
        end as bet_price
    from {{ finished }}
),

graded as (
    select
        grading_sides.*,
        case
            when not grading_sides.is_bet then null
            when grading_sides.grade_status = 'void' then 'void'
            when grading_sides.grade_status <> 'graded' then null
            when grading_sides.actual_side = 'PUSH' then 'push'
            when grading_sides.actual_side = grading_sides.recommendation then 'hit'
            else 'miss'
        end as bet_result,
        case
            when grading_sides.lean_side is null or grading_sides.grade_status <> 'graded' then null
            when grading_sides.actual_side = 'PUSH' then 'push'
            when grading_sides.actual_side = grading_sides.lean_side then 'hit'
            else 'miss'
        end as lean_result,
        case
            when grading_sides.grade_status = 'graded'
                then abs(grading_sides.actual_points - grading_sides.predicted_points)
        end as absolute_error,
        case
            when grading_sides.grade_status = 'graded' then grading_sides.actual_points - grading_sides.predicted_points
        end as signed_error,
        case
            when grading_sides.grade_status = 'graded' and grading_sides.line_points is not null
                then abs(grading_sides.actual_points - grading_sides.line_points)
        end as line_absolute_error
    from grading_sides
),

graded_profit as (
    select
        graded.*,
        case
            when graded.bet_result in ('push', 'void') then 0.0
            when graded.bet_price is null then null
            when graded.bet_result = 'miss' then -1.0
            when graded.bet_result = 'hit' and graded.bet_price > 0 then graded.bet_price / 100.0
            when graded.bet_result = 'hit' then 100.0 / abs(graded.bet_price)
        end as profit_units
    from graded
)
{%- endmacro %}

{#- The denominator of prediction coverage, one definition for grading.prediction_coverage and
    monitoring.monitoring_prediction_coverage: the CTEs `evaluated_dates` (dates with predictions,
    plus var run_date so a run that scored nothing is still evaluated) and `lined_players` (players
    with a consensus line on those dates). `consensus_lines` and `predictions` name CTEs of the
    calling model. -#}
{% macro coverage_lined_players(consensus_lines, predictions) -%}
    {%- set run_date = run_var('run_date', none) -%}
evaluated_dates as (
    select distinct game_date from {{ predictions }}
    {%- if run_date %}
        union distinct
        select cast('{{ run_date }}' as date) as game_date
    {%- endif %}
),

lined_players as (
    select distinct
        {{ consensus_lines }}.game_date,
        {{ consensus_lines }}.player_id
    from {{ consensus_lines }}
    inner join evaluated_dates
        on {{ consensus_lines }}.game_date = evaluated_dates.game_date
    where {{ consensus_lines }}.consensus_line_points is not null
)
{%- endmacro %}

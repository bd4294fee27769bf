{#- Implied probability (0..1, vig included) of American odds: -150 -> 150/250 = 0.6,
    +130 -> 100/230 = 0.435. Null odds stay null; |odds| < 100 is not valid American odds
    and yields null (source tests reject such rows). Portable SQL (the 100.0 literal makes it a double on DuckDB and FLOAT64 on BigQuery). -#}
{% macro american_odds_to_implied_probability(odds_expression) -%}
    case
        when {{ odds_expression }} <= -100
            then -({{ odds_expression }}) / (-({{ odds_expression }}) + 100.0)
        when {{ odds_expression }} >= 100
            then 100.0 / ({{ odds_expression }} + 100)
    end
{%- endmacro %}

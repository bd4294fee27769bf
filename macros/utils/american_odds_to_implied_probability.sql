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

{#- The inverse: American odds of an implied probability p (0 < p < 1): p >= 0.5 -> -100 p / (1 - p),
    p < 0.5 -> 100 (1 - p) / p; 0.6 -> -150, 0.435 -> +130. Used to take a median of prices in
    probability space (a median of -110 and +110 in American odds would be 0, which is not a price). -#}
{% macro implied_probability_to_american_odds(probability_expression) -%}
    case
        when {{ probability_expression }} >= 0.5 and {{ probability_expression }} < 1
            then -100.0 * {{ probability_expression }} / (1 - {{ probability_expression }})
        when {{ probability_expression }} > 0 and {{ probability_expression }} < 0.5
            then 100.0 * (1 - {{ probability_expression }}) / {{ probability_expression }}
    end
{%- endmacro %}

{#- The US/Eastern calendar date of a UTC timestamp (timestamptz): game dates are ET dates.
    Explicit per adapter so the conversion never depends on the session time zone. -#}
{% macro to_us_eastern_date(timestamp_expression) -%}
    {{ return(adapter.dispatch('to_us_eastern_date', 'nba_props')(timestamp_expression)) }}
{%- endmacro %}

{% macro default__to_us_eastern_date(timestamp_expression) -%}
    cast(({{ timestamp_expression }}) at time zone 'America/New_York' as date)
{%- endmacro %}

{% macro duckdb__to_us_eastern_date(timestamp_expression) -%}
    cast(timezone('America/New_York', {{ timestamp_expression }}) as date)
{%- endmacro %}

{% macro bigquery__to_us_eastern_date(timestamp_expression) -%}
    date({{ timestamp_expression }}, 'America/New_York')
{%- endmacro %}

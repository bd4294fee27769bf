{#- The median (continuous) of an expression as a window over `partition_by` (a list of
    column names), e.g. the median line of a book's ladder. -#}
{% macro median_over(expression, partition_by) -%}
    {{ return(adapter.dispatch('median_over', 'nba_props')(expression, partition_by)) }}
{%- endmacro %}

{% macro default__median_over(expression, partition_by) -%}
    percentile_cont(0.5) within group (order by {{ expression }}) over (partition by {{ partition_by | join(', ') }})
{%- endmacro %}

{% macro duckdb__median_over(expression, partition_by) -%}
    median({{ expression }}) over (partition by {{ partition_by | join(', ') }})
{%- endmacro %}

{% macro bigquery__median_over(expression, partition_by) -%}
    percentile_cont({{ expression }}, 0.5) over (partition by {{ partition_by | join(', ') }})
{%- endmacro %}

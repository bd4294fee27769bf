{#- The one carry-over blend: (n * value + k * prior) / (n + k), i.e. value counted n times and the
    prior k times (player_context_features: previous season toward the role average, and this
    season toward the carry-over prior by games played). -#}
{% macro carryover_blend(value, n, prior, k) -%}
    ({{ n }} * {{ value }} + {{ k }} * {{ prior }}) / ({{ n }} + {{ k }})
{%- endmacro %}

{#- An average that does not depend on the summation order: the sum is taken in integer
    micro-units (exact), so rebuilds with different partitions give bit-identical results. -#}
{% macro exact_avg(expression) -%}
    sum(cast(round({{ expression }} * 1000000) as {{ dbt.type_bigint() }})) / 1000000.0 / count({{ expression }})
{%- endmacro %}

{#- The one carry-over blend: (n * value + k * prior) / (n + k), i.e. value counted n times and the
    prior k times (player_context_features: previous season toward the role average, and this
    season toward the carry-over prior by games played). -#}
{% macro carryover_blend(value, n, prior, k) -%}
    ({{ n }} * {{ value }} + {{ k }} * {{ prior }}) / ({{ n }} + {{ k }})
{%- endmacro %}

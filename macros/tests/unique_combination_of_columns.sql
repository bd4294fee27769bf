{#- No two rows share the same values of combination_of_columns (a compound primary key).
    Rows where any of the columns is null count as their own combination. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
    {%- if combination_of_columns | length == 0 -%}
        {{ exceptions.raise_compiler_error("unique_combination_of_columns needs at least one column") }}
    {%- endif -%}
    select
        {{ combination_of_columns | join(",\n        ") }},
        count(*) as n_rows
    from {{ model }}
    group by {{ combination_of_columns | join(", ") }}
    having count(*) > 1
{% endtest %}

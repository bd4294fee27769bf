{#- At least `at_least` (0..1) of the rows have a non-null value in the column. Use it for
    columns that may legitimately be missing on some rows but not on most. -#}
{% test not_null_proportion(model, column_name, at_least) %}
    {%- if at_least < 0 or at_least > 1 -%}
        {{ exceptions.raise_compiler_error("not_null_proportion: at_least must be between 0 and 1") }}
    {%- endif -%}
    with proportions as (
        select
            count({{ column_name }}) as n_not_null,
            count(*) as n_rows
        from {{ model }}
    )

    select
        n_not_null,
        n_rows
    from proportions
    where n_rows > 0 and n_not_null < {{ at_least }} * n_rows
{% endtest %}

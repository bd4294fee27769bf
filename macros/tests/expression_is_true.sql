{#- A boolean SQL expression holds on every row (optionally only on the rows of `where`
    config). A null result counts as a failure: write `x is null or ...` to allow nulls. -#}
{% test expression_is_true(model, expression, column_name=none) %}
    select *
    from {{ model }}
    where not coalesce(({{ expression }}), false)
{% endtest %}

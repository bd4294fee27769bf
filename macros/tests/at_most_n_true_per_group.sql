{#- At most `max_true` rows (default 1) per group have the boolean column true, e.g. one main
    line per player, date, book, market and snapshot. -#}
{% test at_most_n_true_per_group(model, column_name, group_by_columns, max_true=1) %}
    select
        {{ group_by_columns | join(",\n        ") }},
        count(*) as n_true
    from {{ model }}
    where {{ column_name }}
    group by {{ group_by_columns | join(", ") }}
    having count(*) > {{ max_true }}
{% endtest %}

{#- The newest value of a timestamp column is no older than `interval` `datepart`s before
    now (or before the `reference_timestamp` SQL expression, e.g. a var for replays). -#}
{% test recency(model, field, datepart, interval, reference_timestamp=none) %}
    {%- set reference = reference_timestamp if reference_timestamp is not none else dbt.current_timestamp() -%}
    with newest as (
        select max({{ field }}) as newest_value
        from {{ model }}
    )

    select newest_value
    from newest
    where
        newest_value is null
        or newest_value < {{ dbt.dateadd(datepart, -1 * interval, reference) }}
{% endtest %}

{#- Every non-null value of the column lies in [min_value, max_value] (bounds optional,
    inclusive by default; inclusive=false makes both bounds strict). Fails with the offending
    rows. -#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}
    {%- if min_value is none and max_value is none -%}
        {{ exceptions.raise_compiler_error("accepted_range needs min_value and/or max_value") }}
    {%- endif -%}
    {%- set violations = [] -%}
    {%- if min_value is not none -%}
        {%- do violations.append("tested_value " ~ ("<" if inclusive else "<=") ~ " " ~ min_value) -%}
    {%- endif -%}
    {%- if max_value is not none -%}
        {%- do violations.append("tested_value " ~ (">" if inclusive else ">=") ~ " " ~ max_value) -%}
    {%- endif -%}
    with validation as (
        select {{ column_name }} as tested_value
        from {{ model }}
        where {{ column_name }} is not null
    )

    select tested_value
    from validation
    where {{ violations | join(" or ") }}
{% endtest %}

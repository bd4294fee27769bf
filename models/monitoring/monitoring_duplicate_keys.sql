{#- Daily duplicate detection over every table's natural key (allowlist: macros/ops/monitored_relations.sql).
    A relation that does not exist in this warehouse is reported with is_present = false. -#}
{%- set checks = ops_monitored_relations() -%}

with

-- the templated union confuses the layout linter; the rendered SQL is regular
-- noqa: disable=LT02
unioned as (
    {%- for c in checks %}
        {%- set relation = ops_relation(c.schema, c.table) %}
        {%- if relation is not none %}
            {#- duplicates are checked over all history: every partition of a partitioned relation -#}
            {%- set partition = partition_of(relation) %}
            {%- set every_partition = all_partitions_filter(partition[0], partition[1]) if partition else '1 = 1' %}
            select
                '{{ c.schema }}.{{ c.table }}' as checked_relation,
                '{{ c.key | join(", ") }}' as natural_key,
                true as is_present,
                cast((select count(*) from {{ relation }} where {{ every_partition }}) as {{ dbt.type_bigint() }})
                    as n_rows,
                cast(count(*) as {{ dbt.type_bigint() }}) as n_duplicate_keys,
                cast(coalesce(sum(duplicates.n_key_rows), 0) as {{ dbt.type_bigint() }}) as n_duplicate_rows
            from (
                select
                    {{ c.key | join(", ") }},
                    count(*) as n_key_rows
                from {{ relation }}
                where {{ every_partition }}
                group by {{ c.key | join(", ") }}
                having count(*) > 1
            ) as duplicates
        {%- else %}
            select
                '{{ c.schema }}.{{ c.table }}' as checked_relation,
                '{{ c.key | join(", ") }}' as natural_key,
                false as is_present,
                cast(null as {{ dbt.type_bigint() }}) as n_rows,
                cast(null as {{ dbt.type_bigint() }}) as n_duplicate_keys,
                cast(null as {{ dbt.type_bigint() }}) as n_duplicate_rows
        {%- endif %}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),
-- noqa: enable=LT02

final as (
    select
        -- ids
        checked_relation,
        natural_key,
        -- flags
        is_present,
        coalesce(n_duplicate_keys, 0) > 0 as has_duplicates,
        -- numerics
        n_rows,
        n_duplicate_keys,
        n_duplicate_rows,
        -- timestamps
        current_timestamp as checked_at
    from unioned
)

select * from final

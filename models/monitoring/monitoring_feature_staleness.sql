{#- Feature staleness per game date in precompute.ml_feature_store (looked up by name: empty until
    Phase 4 exists in this warehouse). -#}
{%- set feature_store = ops_relation('precompute', 'ml_feature_store') -%}

with

{% if feature_store is not none -%}
    feature_store as (
        select * from {{ feature_store }}
    ),

    per_date as (
        select
            game_date,
            count(*) as n_feature_rows,
            sum(case when is_stale then 1 else 0 end) as n_stale_rows,
            sum(case when missing_features <> '' then 1 else 0 end) as n_rows_missing_features,
            avg(feature_quality_score) as avg_feature_quality_score,
            max(features_computed_at) as latest_features_computed_at
        from feature_store
        group by game_date
    ),
{%- else -%}
    per_date as (
        select
            cast(null as date) as game_date,
            0 as n_feature_rows,
            0 as n_stale_rows,
            0 as n_rows_missing_features,
            cast(null as {{ dbt.type_float() }}) as avg_feature_quality_score,
            cast(null as {{ dbt.type_timestamp() }}) as latest_features_computed_at
        where false
    ),
{%- endif %}

final as (
    select
        -- dates
        game_date,
        -- numerics
        cast(n_feature_rows as {{ dbt.type_bigint() }}) as n_feature_rows,
        cast(n_stale_rows as {{ dbt.type_bigint() }}) as n_stale_rows,
        cast(n_rows_missing_features as {{ dbt.type_bigint() }}) as n_rows_missing_features,
        cast(n_stale_rows as {{ dbt.type_float() }}) / nullif(n_feature_rows, 0) as stale_share,
        avg_feature_quality_score,
        -- flags
        coalesce(cast(n_stale_rows as {{ dbt.type_float() }}) / nullif(n_feature_rows, 0), 0)
        > {{ var('feature_stale_alert_share', 0.5) }} as is_stale_alert,
        -- timestamps
        latest_features_computed_at
    from per_date
)

select * from final

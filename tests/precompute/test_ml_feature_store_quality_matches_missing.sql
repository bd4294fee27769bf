{{ config(tags=['phase4']) }}

{#- feature_quality_score is consistent with missing_features: a row with no missing feature
    scores the phase-weighted maximum, and every listed missing feature lowers the score. Rows
    returned are inconsistent. -#}

{%- set features = var('ml_features') -%}
{%- set weights = var('feature_quality_weights') -%}
{%- set phases = var('feature_source_phases') -%}
{%- set ns = namespace(full=0) -%}
{#- the lint templater has no project vars: there `weights` is not a mapping and the sum is moot -#}
{%- if weights is mapping -%}
    {%- for feature in features -%}
        {%- set ns.full = ns.full + weights[phases[feature.source_model]] -%}
    {%- endfor -%}
{%- endif -%}

with

feature_rows as (
    select * from {{ in_run_window(ref('ml_feature_store')) }}
),

final as (
    select
        feature_row_id,
        missing_features,
        feature_quality_score
    from feature_rows
    where
        (missing_features = '' and abs(feature_quality_score - {{ ns.full / (features | length) }}) > 1e-9)
        or (missing_features <> '' and feature_quality_score >= {{ ns.full / (features | length) }})
)

select * from final

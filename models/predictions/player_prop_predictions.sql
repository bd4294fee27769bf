{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        incremental_predicates=incremental_window_predicates('game_date'),
        unique_key=['system_id', 'player_id', 'game_date', 'line_source'],
        on_schema_change='append_new_columns',
        contract={'enforced': contract_enforced()},
    )
}}
-- One prediction per (system_id, player_id, game_date, line_source), MERGEd from the latest
-- scores. With var run_date only that date is considered. On incremental runs only keys whose
-- score is newer than the stored one are merged, so a repeated build changes nothing.
with

scores as (
    select * from {{ ref('stg_ml__prediction_scores') }}
),

{% if is_incremental() %}
    existing as (
        select
            system_id,
            player_id,
            game_date,
            line_source,
            scored_at
        from {{ this }}
        {#- only the run window's partitions: the scores merged are of run_date (in the window) -#}
        {%- set existing_window = window_filter('game_date') %}
        {%- if existing_window %}
            where {{ existing_window }}
        {%- endif %}
    ),
{% endif %}

selected as (
    select scores.*
    from scores
    {% if is_incremental() %}
        left join existing
            on
                scores.system_id = existing.system_id
                and scores.player_id = existing.player_id
                and scores.game_date = existing.game_date
                and scores.line_source = existing.line_source
    {% endif %}
    where
        1 = 1
        {% if run_var('run_date') %}
            and scores.game_date = cast('{{ run_var("run_date") }}' as date)
        {% endif %}
        {% if is_incremental() %}
            and (existing.scored_at is null or scores.scored_at > existing.scored_at)
        {% endif %}
),

final as (
    select
        -- ids
        cast(prediction_id as varchar) as prediction_id,
        cast(system_id as varchar) as system_id,
        cast(model_version as varchar) as model_version,
        cast(player_id as bigint) as player_id,
        cast(game_date as date) as game_date,
        cast(game_id as varchar) as game_id,
        cast(line_source as varchar) as line_source,
        cast(feature_row_id as varchar) as feature_row_id,
        cast(prediction_run_id as varchar) as prediction_run_id,
        cast(correlation_id as varchar) as correlation_id,
        -- line
        cast(line_points as double) as line_points,
        cast(line_bookmakers as varchar) as line_bookmakers,
        cast(over_price as integer) as over_price,
        cast(under_price as integer) as under_price,
        -- numerics
        cast(predicted_points as double) as predicted_points,
        cast(prediction_std as double) as prediction_std,
        cast(edge as double) as edge,
        cast(confidence as double) as confidence,
        cast(recommendation as varchar) as recommendation,
        cast(feature_quality_score as double) as feature_quality_score,
        cast(p_over as double) as p_over,
        cast(calibration_version as varchar) as calibration_version,
        cast(best_book as varchar) as best_book,
        cast(best_price as integer) as best_price,
        cast(expected_value as double) as expected_value,
        -- timestamps
        cast(features_computed_at as timestamp with time zone) as features_computed_at,
        cast(scored_at as timestamp with time zone) as scored_at,
        cast({{ dbt.current_timestamp() }} as timestamp with time zone) as merged_at
    from selected
)

select * from final

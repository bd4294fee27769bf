{{
    config(
        materialized='incremental',
        incremental_strategy=date_replace_strategy(),
        unique_key='game_date',
        on_schema_change='append_new_columns',
    )
}}

{#- THE feature table (docs/CONTRACTS.md "ml_feature_store", docs/features.md): one row per
    (player, game date) of player_daily_cache. The feature columns are generated from the
    `ml_features` var: each is the column `name` of its `source_model` for the row, as of the
    morning of the date; a missing value is replaced by the feature's `default`, listed in
    missing_features and weighted `default` in feature_quality_score (otherwise the weight of
    the source model's phase, var feature_source_phases / feature_quality_weights). Labels
    (actual_points, actual_minutes) come from the row's own box score and are never features.
    Incremental: delete+insert by game_date from features_refresh_from_date. -#}

{%- set features = var('ml_features') -%}
{%- set weights = var('feature_quality_weights') -%}
{%- set phases = var('feature_source_phases') -%}
{#- sqlfluff's jinja templater has no project vars: lint a one-feature stand-in (dbt always has the list) -#}
{%- if (features | map(attribute='name') | select('string') | list | length) == 0 -%}
    {%- set features = [
        {'name': 'lint_feature', 'dtype': 'float', 'default': 0, 'source_model': 'player_daily_cache'},
    ] -%}
    {%- set weights = {'phase4': 100, 'phase3': 87, 'default': 40} -%}
    {%- set phases = {'player_daily_cache': 'phase4'} -%}
{%- endif -%}
{%- set source_aliases = {
    'player_daily_cache': 'daily_cache',
    'player_composite_factors': 'composite_factors',
    'team_game_context': 'team_context',
    'player_context_features': 'context_features',
} -%}
{%- set stale_sources = run_var('stale_sources', []) -%}
{%- set missing_expressions = [] -%}
{%- for feature in features -%}
    {%- do missing_expressions.append(
        "case when source_" ~ feature.name ~ " is null then '" ~ feature.name ~ "' end"
    ) -%}
{%- endfor -%}

with

bounds as (
    select {{ features_refresh_from_date('did_play is not null') }} as refresh_from_date
),

-- every source is read from the refresh date on: the rows are joined on the same game date (or
-- the same game), so the older history is never needed (and its row groups are skipped)
daily_cache as (
    select * from {{ ref('player_daily_cache') }}
    where game_date >= (select bounds.refresh_from_date from bounds)
),

composite_factors as (
    select * from {{ ref('player_composite_factors') }}
    where game_date >= (select bounds.refresh_from_date from bounds)
),

team_context as (
    select * from {{ ref('team_game_context') }}
    where game_date >= (select bounds.refresh_from_date from bounds)
),

context_features as (
    select * from {{ ref('player_context_features') }}
    where game_date >= (select bounds.refresh_from_date from bounds)
),

player_games as (
    select * from {{ ref('player_game_summary') }}
    where game_date >= (select bounds.refresh_from_date from bounds)
),

registry as (
    select * from {{ ref('stg_nba__players') }}
),

joined as (
    select
        daily_cache.player_id,
        daily_cache.game_date,
        daily_cache.game_id,
        daily_cache.season,
        daily_cache.team_id,
        daily_cache.opponent_team_id,
        daily_cache.is_home,
        daily_cache.has_box_score,
        daily_cache.did_play,
        daily_cache.last_game_date,
        daily_cache.days_since_last_game,
        coalesce(team_context.is_final, false) as is_final,
        composite_factors.opponent_last_played_date,
        composite_factors.team_last_played_date,
        coalesce(registry.player_name, player_games.player_name) as player_name,
        player_games.points as actual_points,
        player_games.minutes as actual_minutes,
        -- noqa: disable=all
        {%- for feature in features %}
        {{ source_aliases[feature.source_model] }}.{{ feature.name }} as source_{{ feature.name }}
        {{- "," if not loop.last }}
        {%- endfor %}
    -- noqa: enable=all
    from daily_cache
    cross join bounds
    left join composite_factors
        on
            daily_cache.player_id = composite_factors.player_id
            and daily_cache.game_date = composite_factors.game_date
    left join team_context
        on
            daily_cache.game_id = team_context.game_id
            and daily_cache.team_id = team_context.team_id
    left join context_features  -- noqa: ST11
        on
            daily_cache.player_id = context_features.player_id
            and daily_cache.game_date = context_features.game_date
    left join registry
        on daily_cache.player_id = registry.player_id
    left join player_games
        on
            daily_cache.player_id = player_games.player_id
            and daily_cache.game_id = player_games.game_id
    where daily_cache.game_date >= bounds.refresh_from_date
),

scored as (
    select
        joined.*,
        {{ join_non_null(missing_expressions) }} as missing_features,
        -- noqa: disable=all
        (
            {%- for feature in features %}
            case
                when source_{{ feature.name }} is null then {{ weights['default'] }}
                else {{ weights[phases[feature.source_model]] }}
            end
            {{- " +" if not loop.last }}
            {%- endfor %}
        ) * 1.0 / {{ features | length }} as feature_quality_score,
        -- noqa: enable=all
        {{ dbt.datediff('opponent_last_played_date', 'game_date', 'day') }} as days_since_opponent_game
    from joined
),

flagged as (
    select
        scored.*,
        {{ join_non_null([
            "case when days_since_last_game > " ~ var('staleness_max_days_since_last_game')
            ~ " then 'player_last_game_over_" ~ var('staleness_max_days_since_last_game') ~ "_days' end",
            "case when days_since_opponent_game > " ~ var('staleness_max_days_since_opponent_game')
            ~ " then 'opponent_last_game_over_" ~ var('staleness_max_days_since_opponent_game') ~ "_days' end",
            ("case when not has_box_score and not is_final then 'stale_sources:" ~ (stale_sources | join('+'))
             ~ "' end") if stale_sources | length > 0 else "cast(null as " ~ dbt.type_string() ~ ")",
        ]) }} as stale_reasons
    from scored
),

final as (
    select
        -- ids
        {{ dbt.hash(dbt.concat([
            "cast(player_id as " ~ dbt.type_string() ~ ")", "'|'", "cast(game_date as " ~ dbt.type_string() ~ ")",
        ])) }} as feature_row_id,
        player_id,
        game_id,
        team_id,
        opponent_team_id,

        -- strings
        player_name,
        season,

        -- booleans
        is_home,
        not has_box_score and not is_final as is_upcoming,
        did_play,

        -- dates
        game_date,

        -- labels (never features)
        case when did_play then cast(actual_points as {{ type_double() }}) end as actual_points,
        case when did_play then cast(actual_minutes as {{ type_double() }}) end as actual_minutes,

        -- features (var ml_features)
        -- noqa: disable=all
        {%- for feature in features %}
        cast(
            coalesce(source_{{ feature.name }}, {{ feature.default }})
            as {{ dbt.type_int() if feature.dtype == 'int' else type_double() }}
        ) as {{ feature.name }},
        {%- endfor %}
        -- noqa: enable=all

        -- feature metadata
        {{ features_run_at() }} as features_computed_at,
        nullif(
            greatest(
                coalesce(last_game_date, cast('1900-01-01' as date)),
                coalesce(team_last_played_date, cast('1900-01-01' as date)),
                coalesce(opponent_last_played_date, cast('1900-01-01' as date))
            ),
            cast('1900-01-01' as date)
        ) as feature_source_max_date,
        cast(feature_quality_score as {{ type_double() }}) as feature_quality_score,
        missing_features,
        stale_reasons <> '' as is_stale,
        nullif(stale_reasons, '') as stale_reason,
        days_since_last_game
    from flagged
)

select * from final

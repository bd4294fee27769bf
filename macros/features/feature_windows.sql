{#- Date bounds shared by the Phase 3/4 feature models (docs/features.md, "Incremental"). -#}

{#- The reference ("today") game date: var run_date when given, else the day after the latest
    box score. Upcoming (unplayed, not final) games get rows from this date up to
    upcoming_horizon_days later. -#}
{% macro features_reference_date() -%}
    {%- if run_var('run_date', none) -%}
        cast('{{ run_var("run_date") }}' as date)
    {%- else -%}
        (
            select cast({{ dbt.dateadd('day', 1, 'max(reference_games.game_date)') }} as date)
            from {{ ref('player_game_summary') }} as reference_games
        )
    {%- endif -%}
{%- endmacro %}

{#- As of the run date's morning (issue #11 point 6): `flag` (a game's "played" / "final") is taken
    as true only for games strictly before var run_date. A run for D then builds the rows and
    features of D from what was known on D's morning even when the warehouse already holds D's
    box scores (a later date was run first, or concurrently): same players, same values, no
    labels. Without run_date (full builds, backfills of history) the flag is unchanged. -#}
{% macro known_as_of_run_date(flag, game_date) -%}
    {%- if run_var('run_date', none) -%}
        ({{ flag }} and {{ game_date }} < {{ features_reference_date() }})
    {%- else -%}
        {{ flag }}
    {%- endif -%}
{%- endmacro %}

{#- The first game date an incremental run recomputes. Full builds: everything. Incremental
    builds: features_rebuild_from when set, else (latest game date of {{ this }} that satisfies
    `played_condition`) minus features_incremental_lookback_days. The incremental models are
    delete+insert by game_date, so every date from this one on is rebuilt whole. With a run
    window (run_date), the latest played date is looked up inside it (a pruned read of the
    window, not of the history); none there (the table is more than incremental_window_days
    behind) rebuilds everything, as a first build does: same rows, more work. -#}
{% macro features_refresh_from_date(played_condition) -%}
    {%- if not is_incremental() -%}
        cast('1900-01-01' as date)
    {%- elif var('features_rebuild_from', none) -%}
        cast('{{ var("features_rebuild_from") }}' as date)
    {%- else -%}
        {%- set window = nba_props.window_filter('already_built.game_date') -%}
        {%- set window_condition = ' and ' ~ window if window else '' -%}
        coalesce(
            (
                select
                    cast(
                        {{ dbt.dateadd('day', -1 * var('features_incremental_lookback_days'), 'max(already_built.game_date)') }}
                        as date
                    )
                from {{ this }} as already_built
                where {{ played_condition }}{{ window_condition }}
            ),
            cast('1900-01-01' as date)
        )
    {%- endif -%}
{%- endmacro %}

{#- The role proxy of a player from his minutes rank in his team (1 = most minutes). The data
    has no positions and no starter flag, so "role" is the minutes rank: lead (the team's top two
    by minutes), starter (ranks 3-5), bench (6+). Used per game (team_defense_profile) and per
    player-date from the mean rank of the last 10 games (player_daily_cache). -#}
{% macro role_from_minutes_rank(rank_expression) -%}
    case
        when {{ rank_expression }} is null then null
        when {{ rank_expression }} <= 2.5 then 'lead'
        when {{ rank_expression }} <= 5.5 then 'starter'
        else 'bench'
    end
{%- endmacro %}

{#- The run's start time as a UTC timestamptz literal (features_computed_at / computed_at). -#}
{% macro features_run_at() -%}
    {{ return(adapter.dispatch('features_run_at', 'nba_props')()) }}
{%- endmacro %}

{% macro default__features_run_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}+00:00' as timestamp with time zone)
{%- endmacro %}

{% macro bigquery__features_run_at() -%}
    timestamp('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}+00:00')
{%- endmacro %}

{#- The 64-bit floating type (dbt.type_float() is a 32-bit `float` on DuckDB). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'nba_props')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double
{%- endmacro %}

{% macro bigquery__type_double() -%}
    float64
{%- endmacro %}

{{
    config(
        materialized='incremental',
        incremental_strategy=date_replace_strategy(),
        unique_key='season',
        partition_by=season_partition(),
        on_schema_change='append_new_columns',
    )
}}

{#- One row per player, season and name he played under that season (box scores): his season
    totals (games, per-game points / minutes / usage rate / minutes rank, the team of his last game
    of the season) repeated on each name row. The bounded stand-in for every read of all the box
    score history: the carry-over (previous season, first season: player_context_features) and
    the names a prop line can mean (player_prop_lines_resolved) read this table, a few thousand
    rows, instead of player_game_summary's whole history.
    Incremental: the seasons with box-score rows newer than this table's newest source_scraped_at
    are rebuilt whole (delete+insert by season; BigQuery: insert_overwrite of the seasons'
    partitions), so a corrected game or name leaves no stale row. -#}

with

{% if is_incremental() %}
    changed_seasons as (
        select distinct changed_rows.season
        from {{ ref('player_game_summary') }} as changed_rows
        where changed_rows.source_scraped_at > {{ newest_already_built() }}
    ),
{% endif %}

player_games as (
    select * from {{ ref('player_game_summary') }}
    {% if is_incremental() %}
        -- the scan skips the row groups of the other seasons (date order)
        where season in (select changed_seasons.season from changed_seasons)
    {% endif %}
),

season_totals as (
    select
        player_id,
        season,
        count(*) as games,
        {{ exact_avg('points') }} as points_avg,
        {{ exact_avg('minutes') }} as minutes_avg,
        {{ exact_avg('usage_rate') }} as usage_rate_avg,
        {{ exact_avg('minutes_rank_in_team') }} as minutes_rank_avg,
        min(game_date) as first_game_date,
        max(game_date) as last_game_date,
        max(source_scraped_at) as source_scraped_at
    from player_games
    group by player_id, season
),

last_teams as (
    select
        player_id,
        season,
        team_id as last_team_id
    from player_games
    qualify row_number() over (
        partition by player_id, season order by game_date desc, game_id desc
    ) = 1
),

season_names as (
    select distinct
        player_id,
        season,
        player_name
    from player_games
),

final as (
    select
        -- ids
        season_names.player_id,
        last_teams.last_team_id,

        -- strings
        season_names.season,
        season_names.player_name,

        -- dates
        season_totals.first_game_date,
        season_totals.last_game_date,

        -- numerics
        cast(substr(season_names.season, 1, 4) as {{ dbt.type_int() }}) as season_start_year,
        season_totals.games,
        season_totals.points_avg,
        season_totals.minutes_avg,
        season_totals.usage_rate_avg,
        season_totals.minutes_rank_avg,

        -- timestamps
        season_totals.source_scraped_at
    from season_names
    inner join season_totals
        on
            season_names.player_id = season_totals.player_id
            and season_names.season = season_totals.season
    inner join last_teams
        on
            season_names.player_id = last_teams.player_id
            and season_names.season = last_teams.season
)

select * from final

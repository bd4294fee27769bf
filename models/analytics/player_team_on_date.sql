{{
    config(
        materialized='incremental',
        incremental_strategy=date_replace_strategy(),
        unique_key='game_date',
        on_schema_change='append_new_columns',
    )
}}

{#- Who is expected on which team on a date, as known the morning of that date: one row per
    player and date on which the player's team plays (played games, and unplayed games from the
    reference date up to upcoming_horizon_days later). The team is the one of the player's last
    game strictly before the date, in the same season, at most roster_lookback_days earlier.
    For unplayed games only, a player with no such game is taken from the current player registry
    (roster_status = 1). Final games without box scores (the bundled history has no playoff box
    scores) get no roster rows. Incremental: every date from features_refresh_from_date is
    rebuilt (delete+insert by game_date); only the seasons of those dates are read. -#}

with

player_games as (
    select * from {{ ref('player_game_summary') }}
),

team_games as (
    select * from {{ ref('team_game_context') }}
),

registry as (
    select * from {{ ref('stg_nba__players') }}
),

bounds as (
    select
        {{ features_refresh_from_date('is_played') }} as refresh_from_date,
        {{ features_reference_date() }} as reference_date
),

scoped_team_games as (
    select team_games.*
    from team_games
    cross join bounds
    where
        team_games.game_date >= bounds.refresh_from_date
        and (
            team_games.is_played
            or (
                not team_games.is_final
                and team_games.game_date >= bounds.reference_date
                and team_games.game_date <= cast(
                    {{ dbt.dateadd('day', var('upcoming_horizon_days'), 'bounds.reference_date') }} as date
                )
            )
        )
),

scoped_player_games as (
    select
        player_id,
        team_id,
        season,
        game_date,
        game_id,
        lead(game_date) over (
            partition by player_id, season
            order by game_date, game_id
        ) as next_game_date
    from player_games
    where season in (select distinct scoped_team_games.season from scoped_team_games)
),

roster_intervals as (
    select
        player_id,
        team_id,
        season,
        game_date as last_game_date,
        game_id as last_game_id,
        case
            when
                next_game_date is not null
                and next_game_date
                <= cast({{ dbt.dateadd('day', var('roster_lookback_days'), 'game_date') }} as date)
                then next_game_date
            else cast({{ dbt.dateadd('day', var('roster_lookback_days'), 'game_date') }} as date)
        end as valid_to_date
    from scoped_player_games
),

from_last_game as (
    select
        roster_intervals.player_id,
        scoped_team_games.game_date,
        scoped_team_games.team_id,
        scoped_team_games.opponent_team_id,
        scoped_team_games.game_id,
        scoped_team_games.season,
        scoped_team_games.season_type,
        scoped_team_games.is_home,
        scoped_team_games.is_played,
        'last_game' as roster_source,
        roster_intervals.last_game_date,
        roster_intervals.last_game_id
    from scoped_team_games
    inner join roster_intervals
        on
            scoped_team_games.team_id = roster_intervals.team_id
            and scoped_team_games.season = roster_intervals.season
            and scoped_team_games.game_date > roster_intervals.last_game_date
            and scoped_team_games.game_date <= roster_intervals.valid_to_date
),

from_registry as (
    select
        registry.player_id,
        scoped_team_games.game_date,
        scoped_team_games.team_id,
        scoped_team_games.opponent_team_id,
        scoped_team_games.game_id,
        scoped_team_games.season,
        scoped_team_games.season_type,
        scoped_team_games.is_home,
        scoped_team_games.is_played,
        'registry' as roster_source,
        cast(null as date) as last_game_date,
        cast(null as {{ dbt.type_string() }}) as last_game_id
    from scoped_team_games
    inner join registry
        on
            scoped_team_games.team_id = registry.team_id
            and registry.roster_status = 1
    where
        not scoped_team_games.is_played
        and not exists (
            select 1
            from from_last_game
            where
                from_last_game.player_id = registry.player_id
                and from_last_game.game_date = scoped_team_games.game_date
        )
),

unioned as (
    select * from from_last_game
    union all
    select * from from_registry
),

final as (
    select
        -- ids
        player_id,
        team_id,
        opponent_team_id,
        game_id,
        last_game_id,

        -- strings
        season,
        season_type,
        roster_source,

        -- booleans
        is_home,
        is_played,

        -- dates
        game_date,
        last_game_date,

        -- numerics
        {{ dbt.datediff('last_game_date', 'game_date', 'day') }} as days_since_last_game,

        -- timestamps
        {{ features_run_at() }} as computed_at
    from unioned
)

select * from final

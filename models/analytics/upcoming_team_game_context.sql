{{ config(materialized='table') }}

{#- One row per team per upcoming game (not played, not final) from the reference date (var
    run_date, else the day after the latest box score) up to upcoming_horizon_days later: the
    context known before tip-off. Opponent strength = the opponent's season-to-date record and
    net points per game from its box scores before the date. -#}

with

team_games as (
    select * from {{ ref('team_game_context') }}
),

team_offense as (
    select * from {{ ref('team_offense_game_summary') }}
),

resolved_lines as (
    select * from {{ ref('player_prop_lines_resolved') }}
),

bounds as (
    select {{ features_reference_date() }} as reference_date
),

upcoming as (
    select team_games.*
    from team_games
    cross join bounds
    where
        not team_games.is_played
        and not team_games.is_final
        and team_games.game_date >= bounds.reference_date
        and team_games.game_date <= cast(
            {{ dbt.dateadd('day', var('upcoming_horizon_days'), 'bounds.reference_date') }} as date
        )
),

season_records as (
    select
        upcoming.game_id,
        upcoming.team_id,
        team_offense.team_id as record_team_id,
        count(*) as games_played,
        sum(case when team_offense.is_win then 1 else 0 end) as wins,
        avg(team_offense.points - team_offense.opponent_points) as net_points_per_game
    from upcoming
    inner join team_offense
        on
            team_offense.team_id in (upcoming.team_id, upcoming.opponent_team_id)
            and upcoming.season = team_offense.season
            and upcoming.game_date > team_offense.game_date
    group by upcoming.game_id, upcoming.team_id, team_offense.team_id
),

line_counts as (
    select
        game_date,
        home_team_id,
        count(*) as n_prop_lines,
        count(distinct player_id) as n_players_with_lines
    from resolved_lines
    where game_date >= (select bounds.reference_date from bounds)
    group by game_date, home_team_id
),

final as (
    select
        -- ids
        upcoming.game_id,
        upcoming.team_id,
        upcoming.opponent_team_id,

        -- strings
        upcoming.season,
        upcoming.season_type,
        upcoming.arena_timezone,

        -- booleans
        upcoming.is_home,
        upcoming.is_back_to_back,

        -- dates
        upcoming.game_date,
        upcoming.previous_game_date,

        -- numerics
        upcoming.team_days_rest,
        upcoming.team_games_last_7_days,
        upcoming.timezone_change_hours,
        coalesce(own_record.games_played, 0) as team_games_played_season,
        own_record.wins * 1.0 / nullif(own_record.games_played, 0) as team_win_pct_season,
        own_record.net_points_per_game as team_net_points_per_game_season,
        coalesce(opponent_record.games_played, 0) as opponent_games_played_season,
        opponent_record.wins * 1.0 / nullif(opponent_record.games_played, 0) as opponent_win_pct_season,
        opponent_record.net_points_per_game as opponent_net_points_per_game_season,
        coalesce(line_counts.n_prop_lines, 0) as n_prop_lines_in_game,
        coalesce(line_counts.n_players_with_lines, 0) as n_players_with_lines_in_game,

        -- timestamps
        upcoming.tip_at
    from upcoming
    left join season_records as own_record
        on
            upcoming.game_id = own_record.game_id
            and upcoming.team_id = own_record.team_id
            and upcoming.team_id = own_record.record_team_id
    left join season_records as opponent_record
        on
            upcoming.game_id = opponent_record.game_id
            and upcoming.team_id = opponent_record.team_id
            and upcoming.opponent_team_id = opponent_record.record_team_id
    left join line_counts
        on
            upcoming.game_date = line_counts.game_date
            and (case when upcoming.is_home then upcoming.team_id else upcoming.opponent_team_id end)
            = line_counts.home_team_id
)

select * from final

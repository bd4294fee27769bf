{{ config(materialized='table') }}

{#- One row per player expected on the roster of a team with an upcoming game (the unplayed rows
    of player_team_on_date: reference date .. + upcoming_horizon_days), with the context known
    before tip-off: rest, back-to-back, games in the last 7 days and the recent minutes trend from
    his box scores of the season before the date, the team context (home/away, travel) and the
    consensus prop line when one is available. -#}

with

rosters as (
    select * from {{ ref('player_team_on_date') }}
),

player_games as (
    select * from {{ ref('player_game_summary') }}
),

upcoming_teams as (
    select * from {{ ref('upcoming_team_game_context') }}
),

consensus_lines as (
    select * from {{ ref('player_consensus_lines') }}
),

registry as (
    select * from {{ ref('stg_nba__players') }}
),

upcoming_rosters as (
    select * from rosters
    where not is_played
),

recent_games as (
    select
        upcoming_rosters.player_id,
        upcoming_rosters.game_date,
        player_games.game_date as played_date,
        player_games.minutes,
        row_number() over (
            partition by upcoming_rosters.player_id, upcoming_rosters.game_date
            order by player_games.game_date desc, player_games.game_id desc
        ) as recency
    from upcoming_rosters
    inner join player_games
        on
            upcoming_rosters.player_id = player_games.player_id
            and upcoming_rosters.season = player_games.season
            and upcoming_rosters.game_date > player_games.game_date
),

recent_form as (
    select
        player_id,
        game_date,
        max(played_date) as last_game_date,
        sum(case when played_date >= {{ dbt.dateadd('day', -7, 'game_date') }} then 1 else 0 end)
            as games_last_7_days,
        avg(case when recency <= 3 then minutes end) as minutes_avg_last_3,
        avg(minutes) as minutes_avg_last_10
    from recent_games
    where recency <= 10
    group by player_id, game_date
),

final as (
    select
        -- ids
        upcoming_rosters.player_id,
        upcoming_rosters.game_id,
        upcoming_rosters.team_id,
        upcoming_rosters.opponent_team_id,

        -- strings
        registry.player_name,
        upcoming_rosters.season,
        upcoming_rosters.roster_source,
        consensus_lines.bookmaker_keys,

        -- booleans
        upcoming_rosters.is_home,
        coalesce({{ dbt.datediff('recent_form.last_game_date', 'upcoming_rosters.game_date', 'day') }} = 1, false)
            as is_back_to_back,
        consensus_lines.player_id is not null as has_prop_line,

        -- dates
        upcoming_rosters.game_date,
        recent_form.last_game_date,

        -- numerics
        {{ dbt.datediff('recent_form.last_game_date', 'upcoming_rosters.game_date', 'day') }} - 1 as days_rest,
        coalesce(recent_form.games_last_7_days, 0) as games_last_7_days,
        recent_form.minutes_avg_last_3,
        recent_form.minutes_avg_last_10,
        recent_form.minutes_avg_last_3 - recent_form.minutes_avg_last_10 as minutes_trend,
        upcoming_teams.team_days_rest,
        upcoming_teams.timezone_change_hours,
        upcoming_teams.opponent_win_pct_season,
        upcoming_teams.opponent_net_points_per_game_season,
        consensus_lines.consensus_line_points,
        consensus_lines.n_books,
        consensus_lines.over_price,
        consensus_lines.under_price
    from upcoming_rosters
    left join recent_form
        on
            upcoming_rosters.player_id = recent_form.player_id
            and upcoming_rosters.game_date = recent_form.game_date
    left join upcoming_teams
        on
            upcoming_rosters.game_id = upcoming_teams.game_id
            and upcoming_rosters.team_id = upcoming_teams.team_id
    left join consensus_lines
        on
            upcoming_rosters.player_id = consensus_lines.player_id
            and upcoming_rosters.game_date = consensus_lines.game_date
    left join registry
        on upcoming_rosters.player_id = registry.player_id
)

select * from final

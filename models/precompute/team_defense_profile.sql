{{
    config(
        materialized='incremental',
        incremental_strategy=date_replace_strategy(),
        unique_key='game_date',
        on_schema_change='append_new_columns',
    )
}}

{#- One row per team and game date (played or scheduled): how the team defended over its last 10
    games of the season strictly before that date (points allowed, defensive rating, pace,
    opponent shot mix: 3PA and FTA per FGA allowed) and the points it allowed per game to
    opposing players of each role proxy (lead / starter / bench by minutes rank in their team:
    the data has no positions), plus the league's season-to-date averages as of the date for
    normalisation. Team totals are sums of player rows (there is no team box score table).
    Incremental: dates from features_refresh_from_date are rebuilt; only their seasons are read. -#}

with

bounds as (
    select {{ features_refresh_from_date('is_played') }} as refresh_from_date
),

-- the seasons of the dates rebuilt; every input below is read for those seasons only, straight
-- from its model (a constant bound reaches the scan, whose date-ordered row groups of other
-- seasons are skipped; a CTE read more than once would otherwise be materialised whole)
scoped_seasons as (
    select distinct scoped_games.season
    from {{ ref('team_game_context') }} as scoped_games
    where scoped_games.game_date >= (select bounds.refresh_from_date from bounds)
),

team_games as (
    select * from {{ ref('team_game_context') }}
    where season in (select scoped_seasons.season from scoped_seasons)
),

team_defense as (
    select * from {{ ref('team_defense_game_summary') }}
    where season in (select scoped_seasons.season from scoped_seasons)
),

team_offense as (
    select * from {{ ref('team_offense_game_summary') }}
    where season in (select scoped_seasons.season from scoped_seasons)
),

player_games as (
    select * from {{ ref('player_game_summary') }}
),

-- points each team allowed per game to opposing players of each role
-- games whose box score is complete on both sides: partial ones stay out of every aggregate
-- (as if unplayed; team_offense_game_summary.is_complete; null = built before the flag existed)
complete_games as (
    select distinct game_id
    from team_offense
    where is_complete is not false
),

role_points as (
    select
        game_id,
        opponent_team_id as defending_team_id,
        sum(case when minutes_rank_in_team <= 2 then points else 0 end) as points_allowed_to_lead,
        sum(case when minutes_rank_in_team between 3 and 5 then points else 0 end) as points_allowed_to_starter,
        sum(case when minutes_rank_in_team >= 6 then points else 0 end) as points_allowed_to_bench
    from player_games
    where
        season in (select scoped_seasons.season from scoped_seasons)
        and game_id in (select complete_games.game_id from complete_games)
    group by game_id, opponent_team_id
),

team_game_rows as (
    select
        team_games.team_id,
        team_games.season,
        team_games.game_date,
        team_games.game_id,
        team_games.is_played,
        team_defense.points_allowed,
        -- integer units (possessions x 100, seconds): exact window sums, bit-identical reruns
        cast(round(team_defense.opponent_possessions * 100) as {{ dbt.type_bigint() }}) as opponent_possessions_x100,
        cast(round((team_offense.possessions + team_defense.opponent_possessions) * 100) as {{ dbt.type_bigint() }})
            as game_possessions_x100,
        cast(round(team_offense.team_minutes * 60) as {{ dbt.type_bigint() }}) as team_minutes_seconds,
        team_defense.opponent_three_pointers_attempted,
        team_defense.opponent_free_throws_attempted,
        team_defense.opponent_field_goals_attempted,
        role_points.points_allowed_to_lead,
        role_points.points_allowed_to_starter,
        role_points.points_allowed_to_bench
    from team_games
    left join team_defense
        on
            team_games.game_id = team_defense.game_id
            and team_games.team_id = team_defense.team_id
            and team_defense.is_complete is not false
    left join team_offense
        on
            team_games.game_id = team_offense.game_id
            and team_games.team_id = team_offense.team_id
            and team_offense.is_complete is not false
    left join role_points
        on
            team_games.game_id = role_points.game_id
            and team_games.team_id = role_points.defending_team_id
    where team_games.season in (select scoped_seasons.season from scoped_seasons)
),

rolling as (
    select
        team_game_rows.*,
        count(team_game_rows.points_allowed) over last_10_before as games_in_window,
        avg(team_game_rows.points_allowed) over last_10_before as points_allowed_last_10,
        10000.0 * sum(team_game_rows.points_allowed) over last_10_before
        / nullif(sum(team_game_rows.opponent_possessions_x100) over last_10_before, 0) as defensive_rating_last_10,
        -- possessions per 48 minutes over the window (ratio of sums; both teams' mean):
        -- 48 * (sum(poss)/2) / (sum(team_minutes)/5) = 72 * sum(poss x 100) / sum(team seconds)
        72.0 * sum(team_game_rows.game_possessions_x100) over last_10_before
        / nullif(sum(team_game_rows.team_minutes_seconds) over last_10_before, 0) as pace_last_10,
        sum(team_game_rows.opponent_three_pointers_attempted) over last_10_before * 1.0
        / nullif(sum(team_game_rows.opponent_field_goals_attempted) over last_10_before, 0)
            as opponent_three_point_attempt_rate_last_10,
        sum(team_game_rows.opponent_free_throws_attempted) over last_10_before * 1.0
        / nullif(sum(team_game_rows.opponent_field_goals_attempted) over last_10_before, 0)
            as opponent_free_throw_attempt_rate_last_10,
        avg(team_game_rows.points_allowed_to_lead) over last_10_before as points_allowed_to_lead_last_10,
        avg(team_game_rows.points_allowed_to_starter) over last_10_before as points_allowed_to_starter_last_10,
        avg(team_game_rows.points_allowed_to_bench) over last_10_before as points_allowed_to_bench_last_10,
        max(case when team_game_rows.is_played then team_game_rows.game_date end) over all_before as last_played_date
    from team_game_rows
    window
        last_10_before as (
            partition by team_id, season order by game_date rows between 10 preceding and 1 preceding
        ),
        all_before as (
            partition by team_id, season order by game_date rows between unbounded preceding and 1 preceding
        )
),

league_daily as (
    select
        season,
        game_date,
        sum(points_allowed) as points_allowed,
        sum(opponent_possessions_x100) as possessions_x100,
        sum(game_possessions_x100) as game_possessions_x100,
        sum(team_minutes_seconds) as team_minutes_seconds,
        count(points_allowed) as n_team_games,
        sum(opponent_three_pointers_attempted) as three_pointers_attempted,
        sum(opponent_free_throws_attempted) as free_throws_attempted,
        sum(opponent_field_goals_attempted) as field_goals_attempted
    from team_game_rows
    group by season, game_date
),

league_to_date as (
    select
        season,
        game_date,
        10000.0 * sum(points_allowed) over before_date
        / nullif(sum(possessions_x100) over before_date, 0) as league_defensive_rating_to_date,
        72.0 * sum(game_possessions_x100) over before_date
        / nullif(sum(team_minutes_seconds) over before_date, 0) as league_pace_to_date,
        sum(points_allowed) over before_date * 1.0
        / nullif(sum(n_team_games) over before_date, 0) as league_points_allowed_to_date,
        sum(three_pointers_attempted) over before_date * 1.0
        / nullif(sum(field_goals_attempted) over before_date, 0) as league_three_point_attempt_rate_to_date,
        sum(free_throws_attempted) over before_date * 1.0
        / nullif(sum(field_goals_attempted) over before_date, 0) as league_free_throw_attempt_rate_to_date
    from league_daily
    window before_date as (
        partition by season order by game_date rows between unbounded preceding and 1 preceding
    )
),

final as (
    select
        -- ids
        rolling.team_id,
        rolling.game_id,

        -- strings
        rolling.season,

        -- booleans
        rolling.is_played,

        -- dates
        rolling.game_date,
        rolling.last_played_date,

        -- numerics: the team's last 10 games before the date
        rolling.games_in_window,
        rolling.points_allowed_last_10,
        rolling.defensive_rating_last_10,
        rolling.pace_last_10,
        rolling.opponent_three_point_attempt_rate_last_10,
        rolling.opponent_free_throw_attempt_rate_last_10,
        rolling.points_allowed_to_lead_last_10,
        rolling.points_allowed_to_starter_last_10,
        rolling.points_allowed_to_bench_last_10,

        -- numerics: league season-to-date before the date
        league_to_date.league_defensive_rating_to_date,
        league_to_date.league_pace_to_date,
        league_to_date.league_points_allowed_to_date,
        league_to_date.league_three_point_attempt_rate_to_date,
        league_to_date.league_free_throw_attempt_rate_to_date,

        -- timestamps
        {{ features_run_at() }} as computed_at
    from rolling
    cross join bounds
    inner join league_to_date
        on
            rolling.season = league_to_date.season
            and rolling.game_date = league_to_date.game_date
    where rolling.game_date >= bounds.refresh_from_date
)

select * from final

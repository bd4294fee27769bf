-- Every game in the box scores has exactly two teams, one at home and one away, each the
-- other's opponent: guards the MATCHUP parsing on the whole history.
with

player_game_logs as (
    select * from {{ in_run_window(ref('stg_nba__player_game_logs')) }}
),

team_sides as (
    select distinct
        game_id,
        team_id,
        opponent_team_id,
        is_home
    from player_game_logs
),

games as (
    select
        game_id,
        count(*) as n_team_rows,
        count(distinct team_id) as n_teams,
        sum(case when is_home then 1 else 0 end) as n_home_rows,
        min(team_id + opponent_team_id) as min_pair_sum,
        max(team_id + opponent_team_id) as max_pair_sum
    from team_sides
    group by game_id
),

final as (
    select * from games
    where
        n_team_rows != 2
        or n_teams != 2
        or n_home_rows != 1
        or min_pair_sum != max_pair_sum
)

select * from final

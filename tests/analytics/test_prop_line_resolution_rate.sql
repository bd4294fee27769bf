{{ config(tags=['phase3']) }}

{#- At least 99% of the prop lines of games with box scores resolve to a player who played in
    that game for one of its two teams. Lines resolved to a player of one of the two teams who did
    not play (scratches) are left out: nobody "played" behind them. Fails with the figures. -#}

with

resolved_lines as (
    select * from {{ in_run_window(ref('player_prop_lines_resolved')) }}
),

player_games as (
    select * from {{ in_run_window(ref('player_game_summary')) }}
),

box_score_dates as (
    select distinct game_date from player_games
),

judged as (
    select
        resolved_lines.prop_line_id,
        case
            when not resolved_lines.is_resolved then 'unresolved'
            when player_games.player_id is not null then 'played'
            when resolved_lines.resolved_team_id is not null then 'team_player_did_not_play'
            else 'not_on_either_team'
        end as outcome
    from resolved_lines
    inner join box_score_dates
        on resolved_lines.game_date = box_score_dates.game_date
    left join player_games
        on
            resolved_lines.player_id = player_games.player_id
            and resolved_lines.game_date = player_games.game_date
            and player_games.team_id in (resolved_lines.home_team_id, resolved_lines.away_team_id)
),

figures as (
    select
        sum(case when outcome = 'played' then 1 else 0 end) as n_played,
        sum(case when outcome in ('unresolved', 'not_on_either_team') then 1 else 0 end) as n_failed,
        count(*) as n_lines
    from judged
)

select *
from figures
where n_played < 0.99 * (n_played + n_failed)

{{ config(tags=['phase3'], severity='warn') }}

{#- Resolved lines of games with box scores whose player played that date for a team that is not
    in the game: a wrong resolution. Lists them (warn: the rate test above is the gate). -#}

with

resolved_lines as (
    select * from {{ in_run_window(ref('player_prop_lines_resolved')) }}
),

player_games as (
    select * from {{ in_run_window(ref('player_game_summary')) }}
),

final as (
    select
        resolved_lines.prop_line_id,
        resolved_lines.player_name_raw,
        resolved_lines.player_id,
        resolved_lines.game_date,
        resolved_lines.home_team_tricode,
        resolved_lines.away_team_tricode,
        player_games.team_tricode as played_for_tricode
    from resolved_lines
    inner join player_games
        on
            resolved_lines.player_id = player_games.player_id
            and resolved_lines.game_date = player_games.game_date
    where player_games.team_id not in (resolved_lines.home_team_id, resolved_lines.away_team_id)
)

select * from final

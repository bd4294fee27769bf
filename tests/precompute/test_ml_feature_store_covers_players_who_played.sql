{{ config(tags=['phase4']) }}

{#- Every box score has its feature row (did_play true): the row set never loses a player who
    played. -#}

with

player_games as (
    select * from {{ in_run_window(ref('player_game_summary')) }}
),

feature_rows as (
    select * from {{ in_run_window(ref('ml_feature_store')) }}
),

final as (
    select
        player_games.player_id,
        player_games.game_date,
        player_games.game_id
    from player_games
    left join feature_rows
        on
            player_games.player_id = feature_rows.player_id
            and player_games.game_date = feature_rows.game_date
            and feature_rows.did_play
    where feature_rows.player_id is null
)

select * from final

{{ config(materialized='table') }}

{#- Who was on which team when, from the box scores: one row per uninterrupted run of games
    for the same team (a "stint"). A player is on the team from his first game of the stint
    until the day before his next stint starts, or, for his latest stint, until roster_lookback_days
    after his last game. This is knowledge after the fact (it is used to resolve prop-line names,
    never as a feature); the as-of-morning roster used by the feature store is computed in
    player_daily_cache from games strictly before each date. -#}

with

player_games as (
    select * from {{ ref('player_game_summary') }}
),

flagged as (
    select
        player_id,
        player_name,
        team_id,
        team_tricode,
        game_date,
        case
            when lag(team_id) over (partition by player_id order by game_date, game_id) = team_id then 0
            else 1
        end as is_new_stint
    from player_games
),

numbered as (
    select
        flagged.*,
        sum(flagged.is_new_stint) over (
            partition by flagged.player_id
            order by flagged.game_date
            rows between unbounded preceding and current row
        ) as stint_number
    from flagged
),

stints as (
    select
        player_id,
        stint_number,
        team_id,
        max(team_tricode) as team_tricode,
        max(player_name) as player_name,
        min(game_date) as stint_start_date,
        max(game_date) as stint_last_game_date,
        count(*) as games_played
    from numbered
    group by player_id, stint_number, team_id
),

final as (
    select
        -- ids
        player_id,
        team_id,

        -- strings
        player_name,
        team_tricode,

        -- dates
        stint_start_date,
        stint_last_game_date,
        coalesce(
            cast({{ dbt.dateadd('day', -1, 'lead(stint_start_date) over (partition by player_id order by stint_start_date)') }} as date),
            cast({{ dbt.dateadd('day', var('roster_lookback_days'), 'stint_last_game_date') }} as date)
        ) as stint_end_date,

        -- numerics
        stint_number,
        games_played
    from stints
)

select * from final

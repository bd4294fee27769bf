{{ config(materialized='table') }}

{#- The report of prop-line player names that did not resolve to a player_id (one row per raw
    name): how many lines, dates, books and games carry it. The lines themselves stay in
    player_prop_lines_resolved with player_id null; nothing is dropped. Fix a name by adding it
    to seeds/player_aliases.csv (docs/features.md, "Name resolution"). -#}

with

resolved_lines as (
    select * from {{ ref('player_prop_lines_resolved') }}
),

unresolved as (
    select * from resolved_lines
    where not is_resolved
),

final as (
    select
        -- strings
        player_name_raw,
        max(player_name_normalized) as player_name_normalized,
        min(home_team_tricode || '-' || away_team_tricode) as example_home_away_tricodes,

        -- dates
        min(game_date) as first_game_date,
        max(game_date) as last_game_date,

        -- numerics
        count(*) as n_lines,
        count(distinct game_date) as n_game_dates,
        count(distinct bookmaker_key) as n_bookmakers,
        count(distinct event_id) as n_events,

        -- timestamps
        max(scraped_at) as last_scraped_at
    from unresolved
    group by player_name_raw
)

select * from final

{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        incremental_predicates=incremental_window_predicates('game_date'),
        unique_key='game_id',
        on_schema_change='fail',
    )
}}

with

source_rows as (
    select * from {{ source('nba', 'schedule_games') }}
    where {{ new_raw_rows_filter() }} and {{ not_retracted() }}
),

team_aliases as (
    select * from {{ ref('team_aliases') }}
),

ranked_rows as (
    select
        source_rows.*,
        row_number() over (
            partition by source_rows.game_id
            order by
                source_rows.scraped_at desc,
                source_rows.payload_id desc,
                source_rows.record_index desc
        ) as recency_rank
    from source_rows
),

latest_rows as (
    select * from ranked_rows
    where recency_rank = 1
),

tricode_aliases as (
    select
        alias,
        team_id
    from team_aliases
    where alias_system in ('nba_tricode', 'historical_code')
),

season_types_named as (
    -- the source's own label, when the game id does not carry the season-type digit
    select
        latest_rows.*,
        case lower(replace(replace(latest_rows.season_type, ' ', ''), '-', ''))
            when 'preseason' then 'preseason'
            when 'regularseason' then 'regular_season'
            when 'allstar' then 'all_star'
            when 'playoffs' then 'playoffs'
            when 'playin' then 'play_in'
            when 'nbacup' then 'nba_cup_final'
        end as season_type_from_label
    from latest_rows
),

final as (
    select
        -- ids
        season_types_named.game_id,
        coalesce(season_types_named.home_team_id, home_teams.team_id) as home_team_id,
        coalesce(season_types_named.away_team_id, away_teams.team_id) as away_team_id,
        season_types_named.payload_id as source_payload_id,

        -- strings
        coalesce(
            season_types_named.season,
            {{ season_label_from_game_id('season_types_named.game_id') }}
        ) as season,
        coalesce(
            {{ season_type_from_game_id('season_types_named.game_id') }},
            season_types_named.season_type_from_label
        ) as season_type,
        upper(season_types_named.home_team_tricode) as home_team_tricode,
        upper(season_types_named.away_team_tricode) as away_team_tricode,

        -- numerics
        season_types_named.game_status,

        -- booleans
        coalesce(season_types_named.game_status = 3, false) as is_final,

        -- dates and timestamps
        season_types_named.game_date,
        season_types_named.tip_at,
        season_types_named.scraped_at

    from season_types_named
    left join tricode_aliases as home_teams
        on lower(season_types_named.home_team_tricode) = home_teams.alias
    left join tricode_aliases as away_teams
        on lower(season_types_named.away_team_tricode) = away_teams.alias
)

select * from final

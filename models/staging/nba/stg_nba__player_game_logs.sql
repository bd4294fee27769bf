{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        incremental_predicates=incremental_window_predicates('game_date'),
        unique_key=['game_id', 'player_id'],
        on_schema_change='fail',
    )
}}

with

source_rows as (
    select * from {{ source('nba', 'player_game_logs') }}
    where {{ new_raw_rows_filter() }} and {{ not_retracted() }}
),

team_aliases as (
    select * from {{ ref('team_aliases') }}
),

ranked_rows as (
    select
        source_rows.*,
        row_number() over (
            partition by source_rows.game_id, source_rows.player_id
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

matchup_tokens as (
    -- 'DAL vs. UTA': DAL at home against UTA; 'DAL @ UTA': DAL away at UTA
    select
        latest_rows.*,
        upper({{ dbt.split_part('latest_rows.matchup', "' '", 1) }}) as matchup_left_tricode,
        {{ dbt.split_part('latest_rows.matchup', "' '", 2) }} as matchup_separator,
        upper({{ dbt.split_part('latest_rows.matchup', "' '", 3) }}) as matchup_right_tricode
    from latest_rows
),

matchups_parsed as (
    -- MATCHUP is normally written from the player's team's side; 60 rows of the bundled
    -- history (5 games) carry the other team's MATCHUP ('MIA @ WAS' on a WAS player), so the
    -- player's team is looked up on both sides. A team on neither side gives nulls (tests fail).
    select
        matchup_tokens.*,
        case
            when matchup_tokens.team_abbreviation = matchup_tokens.matchup_left_tricode
                then matchup_tokens.matchup_right_tricode
            when matchup_tokens.team_abbreviation = matchup_tokens.matchup_right_tricode
                then matchup_tokens.matchup_left_tricode
        end as opponent_tricode,
        case
            when matchup_tokens.matchup_separator not in ('vs.', '@') then null
            when matchup_tokens.team_abbreviation = matchup_tokens.matchup_left_tricode
                then matchup_tokens.matchup_separator = 'vs.'
            when matchup_tokens.team_abbreviation = matchup_tokens.matchup_right_tricode
                then matchup_tokens.matchup_separator = '@'
        end as is_home
    from matchup_tokens
),

tricode_aliases as (
    select
        alias,
        team_id
    from team_aliases
    where alias_system in ('nba_tricode', 'historical_code')
),

final as (
    select
        -- ids
        matchups_parsed.game_id,
        matchups_parsed.player_id,
        matchups_parsed.team_id,
        opponents.team_id as opponent_team_id,
        matchups_parsed.payload_id as source_payload_id,
        matchups_parsed.scrape_run_id,

        -- strings
        matchups_parsed.player_name,
        matchups_parsed.team_abbreviation as team_tricode,
        matchups_parsed.opponent_tricode,
        {{ season_label_from_season_id('matchups_parsed.season_id') }} as season,
        {{ season_type_from_season_id('matchups_parsed.season_id') }} as season_type,
        matchups_parsed.wl as win_loss,

        -- booleans
        matchups_parsed.is_home,

        -- numerics
        matchups_parsed.minutes,
        matchups_parsed.points,
        matchups_parsed.fgm as field_goals_made,
        matchups_parsed.fga as field_goals_attempted,
        matchups_parsed.fg3m as three_pointers_made,
        matchups_parsed.fg3a as three_pointers_attempted,
        matchups_parsed.ftm as free_throws_made,
        matchups_parsed.fta as free_throws_attempted,
        matchups_parsed.oreb as offensive_rebounds,
        matchups_parsed.dreb as defensive_rebounds,
        matchups_parsed.reb as rebounds,
        matchups_parsed.ast as assists,
        matchups_parsed.stl as steals,
        matchups_parsed.blk as blocks,
        matchups_parsed.tov as turnovers,
        matchups_parsed.pf as personal_fouls,
        matchups_parsed.plus_minus,

        -- dates and timestamps
        matchups_parsed.game_date,
        matchups_parsed.scraped_at

    from matchups_parsed
    left join tricode_aliases as opponents
        on lower(matchups_parsed.opponent_tricode) = opponents.alias
)

select * from final

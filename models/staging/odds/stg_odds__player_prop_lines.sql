{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        incremental_predicates=incremental_window_predicates('game_date'),
        unique_key='prop_line_id',
        on_schema_change='fail',
    )
}}

{%- set main_line_ladder = ['player_name', 'game_date', 'bookmaker_key', 'market_key', 'captured_at'] %}

with

source_rows as (
    select * from {{ source('odds', 'player_props') }}
    where {{ new_raw_rows_filter() }} and {{ not_retracted() }}
),

team_aliases as (
    select * from {{ ref('team_aliases') }}
),

teams as (
    select * from {{ ref('teams') }}
),

scheduled_games as (
    select
        game_date,
        home_team_id,
        away_team_id
    from {{ ref('stg_nba__schedule_games') }}
),

keyed_rows as (
    select
        source_rows.*,
        {{ dbt.hash(dbt.concat([
            "source_rows.event_id", "'|'",
            "source_rows.bookmaker_key", "'|'",
            "source_rows.market_key", "'|'",
            "source_rows.player_name", "'|'",
            "cast(source_rows.line_points as " ~ dbt.type_string() ~ ")", "'|'",
            "cast(" ~ epoch_microseconds('source_rows.captured_at') ~ " as " ~ dbt.type_string() ~ ")",
        ])) }} as prop_line_id
    from source_rows
),

ranked_rows as (
    select
        keyed_rows.*,
        row_number() over (
            partition by keyed_rows.prop_line_id
            order by
                keyed_rows.scraped_at desc,
                keyed_rows.payload_id desc,
                keyed_rows.record_index desc
        ) as recency_rank
    from keyed_rows
),

latest_rows as (
    select * from ranked_rows
    where recency_rank = 1
),

full_name_aliases as (
    select
        alias,
        team_id
    from team_aliases
    where alias_system = 'full_name'
),

lines as (
    select
        latest_rows.*,
        home_teams.team_id as home_team_id,
        away_teams.team_id as away_team_id,
        -- game date rule: the ET date of commence_time; without one (the bundled lines), the
        -- date of the scheduled game between the two teams on or up to 3 days after the capture
        -- date (lines are posted the day before around the All-Star break); else the capture date
        coalesce(
            {{ to_us_eastern_date('latest_rows.commence_time') }},
            (
                select min(scheduled_games.game_date)
                from scheduled_games
                where
                    scheduled_games.home_team_id = home_teams.team_id
                    and scheduled_games.away_team_id = away_teams.team_id
                    and scheduled_games.game_date
                    between {{ to_us_eastern_date('latest_rows.captured_at') }}
                    and {{ dbt.dateadd('day', 3, to_us_eastern_date('latest_rows.captured_at')) }}
            ),
            {{ to_us_eastern_date('latest_rows.captured_at') }}
        ) as game_date,
        latest_rows.over_price is not null and latest_rows.under_price is not null as is_two_sided,
        {{ american_odds_to_implied_probability('latest_rows.over_price') }} as over_implied_probability,
        {{ american_odds_to_implied_probability('latest_rows.under_price') }} as under_implied_probability
    from latest_rows
    left join full_name_aliases as home_teams
        on lower(latest_rows.home_team) = home_teams.alias
    left join full_name_aliases as away_teams
        on lower(latest_rows.away_team) = away_teams.alias
),

lines_with_book_median as (
    select
        lines.*,
        {{ book_median_line(main_line_ladder) }} as book_median_line_points
    from lines
),

main_line_ranked as (
    -- the main-line rule (macros/odds/main_line.sql) per player, game date, book, market and snapshot
    select
        lines_with_book_median.*,
        {{ is_main_line(main_line_ladder) }} as is_main_line
    from lines_with_book_median
),

final as (
    select
        -- ids
        main_line_ranked.prop_line_id,
        main_line_ranked.event_id,
        main_line_ranked.home_team_id,
        main_line_ranked.away_team_id,
        main_line_ranked.payload_id as source_payload_id,

        -- strings
        home_teams.team_tricode as home_team_tricode,
        away_teams.team_tricode as away_team_tricode,
        main_line_ranked.player_name as player_name_raw,
        main_line_ranked.bookmaker_key,
        main_line_ranked.market_key,

        -- numerics
        main_line_ranked.line_points,
        main_line_ranked.over_price,
        main_line_ranked.under_price,
        main_line_ranked.over_implied_probability,
        main_line_ranked.under_implied_probability,

        -- booleans
        main_line_ranked.is_two_sided,
        main_line_ranked.is_main_line,

        -- dates and timestamps
        main_line_ranked.game_date,
        main_line_ranked.captured_at,
        main_line_ranked.scraped_at

    from main_line_ranked
    left join teams as home_teams
        on main_line_ranked.home_team_id = home_teams.team_id
    left join teams as away_teams
        on main_line_ranked.away_team_id = away_teams.team_id
)

select * from final

{{ config(materialized='table') }}

{#- One consensus points line per resolved player and game date (docs/CONTRACTS.md): each book's
    main line (stg is_main_line) from its latest snapshot, then the median across books.
    over_price / under_price are the medians of those main lines' prices taken in implied-probability
    space and converted back to American odds, rounded to an integer (a median of -110 and +110 is
    then +100 / -100, never 0). Unresolved lines are not in here (see unresolved_prop_player_names). -#}

with

resolved_lines as (
    select * from {{ ref('player_prop_lines_resolved') }}
),

team_games as (
    select * from {{ ref('team_game_context') }}
),

book_main_lines as (
    select
        player_id,
        game_date,
        home_team_id,
        bookmaker_key,
        line_points,
        over_price,
        under_price,
        captured_at
    from resolved_lines
    where is_resolved and is_main_line
    qualify row_number() over (
        partition by player_id, game_date, bookmaker_key
        order by captured_at desc, line_points asc
    ) = 1
),

with_medians as (
    select
        book_main_lines.*,
        {{ median_over('line_points', ['player_id', 'game_date']) }} as median_line_points,
        {{ median_over(american_odds_to_implied_probability('over_price'), ['player_id', 'game_date']) }}
            as median_over_probability,
        {{ median_over(american_odds_to_implied_probability('under_price'), ['player_id', 'game_date']) }}
            as median_under_probability
    from book_main_lines
),

aggregated as (
    select
        player_id,
        game_date,
        min(home_team_id) as home_team_id,
        max(median_line_points) as consensus_line_points,
        max(median_over_probability) as median_over_probability,
        max(median_under_probability) as median_under_probability,
        count(*) as n_books,
        string_agg(bookmaker_key, ',' order by bookmaker_key) as bookmaker_keys,
        max(captured_at) as latest_captured_at
    from with_medians
    group by player_id, game_date
),

final as (
    select
        -- ids
        aggregated.player_id,
        team_games.game_id,

        -- strings
        aggregated.bookmaker_keys,

        -- dates
        aggregated.game_date,

        -- numerics
        aggregated.consensus_line_points,
        aggregated.n_books,
        cast(round(
            {{ implied_probability_to_american_odds('aggregated.median_over_probability') }}
        ) as {{ dbt.type_int() }}) as over_price,
        cast(round(
            {{ implied_probability_to_american_odds('aggregated.median_under_probability') }}
        ) as {{ dbt.type_int() }}) as under_price,

        -- timestamps
        aggregated.latest_captured_at
    from aggregated
    left join team_games
        on
            aggregated.home_team_id = team_games.team_id
            and aggregated.game_date = team_games.game_date
)

select * from final

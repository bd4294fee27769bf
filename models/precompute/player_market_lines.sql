{{ config(materialized='table', cluster_by=['player_id']) }}

{#- The market for one player and game date, next to the consensus line (docs/ml.md "Market
    inputs"): each book's main line from its latest snapshot (as in player_consensus_lines), the
    no-vig probability of the over per book (over implied / (over + under implied)) and its median,
    the spread of lines across books, the movement of the median main line from each book's first
    snapshot to its latest, the number of snapshots, and the best available price for each side
    among the books whose latest main line equals the consensus line (the book to bet at). -#}

with

resolved_lines as (
    select * from {{ ref('player_prop_lines_resolved') }}
),

consensus as (
    select * from {{ ref('player_consensus_lines') }}
),

main_lines as (
    select
        player_id,
        game_date,
        bookmaker_key,
        line_points,
        over_price,
        under_price,
        captured_at,
        row_number() over (
            partition by player_id, game_date, bookmaker_key
            order by captured_at desc, line_points asc
        ) as latest_rank,
        row_number() over (
            partition by player_id, game_date, bookmaker_key
            order by captured_at asc, line_points asc
        ) as first_rank
    from resolved_lines
    where is_resolved and is_main_line
),

latest as (
    select
        main_lines.*,
        {{ american_odds_to_implied_probability('over_price') }} as over_probability,
        {{ american_odds_to_implied_probability('under_price') }} as under_probability
    from main_lines
    where main_lines.latest_rank = 1
),

opening as (
    select
        player_id,
        game_date,
        {{ median_over('line_points', ['player_id', 'game_date']) }} as opening_line_points
    from main_lines
    where first_rank = 1
),

opening_by_player as (
    select
        player_id,
        game_date,
        max(opening_line_points) as opening_line_points
    from opening
    group by player_id, game_date
),

no_vig as (
    select
        player_id,
        game_date,
        {{ median_over('over_probability / (over_probability + under_probability)', ['player_id', 'game_date']) }}
            as no_vig_over_probability
    from latest
    where over_probability is not null and under_probability is not null
),

no_vig_by_player as (
    select
        player_id,
        game_date,
        max(no_vig_over_probability) as no_vig_over_probability
    from no_vig
    group by player_id, game_date
),

spread as (
    select
        player_id,
        game_date,
        max(line_points) - min(line_points) as line_spread
    from latest
    group by player_id, game_date
),

snapshots as (
    select
        player_id,
        game_date,
        count(distinct captured_at) as n_snapshots
    from main_lines
    group by player_id, game_date
),

at_consensus as (
    select latest.*
    from latest
    inner join consensus
        on
            latest.player_id = consensus.player_id
            and latest.game_date = consensus.game_date
            and latest.line_points = consensus.consensus_line_points
),

{%- for side in ['over', 'under'] %}
    best_{{ side }} as (
        -- the best price of the side: the lowest implied probability among the books at the consensus line
        select
            player_id,
            game_date,
            bookmaker_key as best_{{ side }}_book,
            {{ side }}_price as best_{{ side }}_price
        from at_consensus
        where {{ side }}_probability is not null
        qualify row_number() over (
            partition by player_id, game_date order by {{ side }}_probability asc, bookmaker_key asc
        ) = 1
    ),
{% endfor %}
final as (
    select
        -- ids
        consensus.player_id,

        -- strings
        best_over.best_over_book,
        best_under.best_under_book,

        -- dates
        consensus.game_date,

        -- numerics
        consensus.consensus_line_points,
        consensus.n_books,
        no_vig_by_player.no_vig_over_probability,
        spread.line_spread,
        consensus.consensus_line_points - opening_by_player.opening_line_points as line_movement,
        snapshots.n_snapshots,
        best_over.best_over_price,
        best_under.best_under_price
    from consensus
    left join no_vig_by_player
        on consensus.player_id = no_vig_by_player.player_id and consensus.game_date = no_vig_by_player.game_date
    left join opening_by_player
        on consensus.player_id = opening_by_player.player_id and consensus.game_date = opening_by_player.game_date
    left join spread
        on consensus.player_id = spread.player_id and consensus.game_date = spread.game_date
    left join snapshots
        on consensus.player_id = snapshots.player_id and consensus.game_date = snapshots.game_date
    {%- for side in ['over', 'under'] %}
        left join best_{{ side }}
            on consensus.player_id = best_{{ side }}.player_id and consensus.game_date = best_{{ side }}.game_date
    {%- endfor %}
)

select * from final

-- The main-line rule marks exactly one line in every (player, game date, book, market, snapshot)
-- group that has a two-sided line, and none in a group of one-sided lines only.
with

prop_lines as (
    select * from {{ in_run_window(ref('stg_odds__player_prop_lines')) }}
),

line_groups as (
    select
        player_name_raw,
        game_date,
        bookmaker_key,
        market_key,
        captured_at,
        sum(case when is_two_sided then 1 else 0 end) as n_two_sided,
        sum(case when is_main_line then 1 else 0 end) as n_main_lines
    from prop_lines
    group by player_name_raw, game_date, bookmaker_key, market_key, captured_at
),

final as (
    select * from line_groups
    where n_main_lines != case when n_two_sided > 0 then 1 else 0 end
)

select * from final

{{ config(materialized='table') }}

{#- One row per team per game, played or only scheduled (preseason and All-Star excluded):
    the schedule context known before tip-off. Rest, back-to-back and the games-in-7-days count
    use the team's previous scheduled games of the same season; travel compares the arena
    (home team's) time zone with the previous game's arena. A table rebuilt each run: it has one
    row per team-game (~2.5k per season) and only window functions. -#}

with

schedule_games as (
    select * from {{ ref('stg_nba__schedule_games') }}
),

team_offense as (
    select * from {{ ref('team_offense_game_summary') }}
),

teams as (
    select * from {{ ref('teams') }}
),

scheduled_team_games as (
    select
        game_id,
        home_team_id as team_id,
        away_team_id as opponent_team_id,
        true as is_home,
        season,
        season_type,
        game_date,
        tip_at,
        is_final
    from schedule_games
    where home_team_id is not null and away_team_id is not null

    union all

    select
        game_id,
        away_team_id as team_id,
        home_team_id as opponent_team_id,
        false as is_home,
        season,
        season_type,
        game_date,
        tip_at,
        is_final
    from schedule_games
    where home_team_id is not null and away_team_id is not null
),

all_team_games as (
    select
        coalesce(played.game_id, scheduled.game_id) as game_id,
        coalesce(played.team_id, scheduled.team_id) as team_id,
        coalesce(played.opponent_team_id, scheduled.opponent_team_id) as opponent_team_id,
        coalesce(played.is_home, scheduled.is_home) as is_home,
        coalesce(played.season, scheduled.season) as season,
        coalesce(played.season_type, scheduled.season_type) as season_type,
        coalesce(played.game_date, scheduled.game_date) as game_date,
        scheduled.tip_at,
        -- as known on the run date's morning (a later run may already have landed these results)
        {{ known_as_of_run_date('played.game_id is not null', 'coalesce(played.game_date, scheduled.game_date)') }}
            as is_played,
        {{ known_as_of_run_date(
            '(coalesce(scheduled.is_final, false) or played.game_id is not null)',
            'coalesce(played.game_date, scheduled.game_date)'
        ) }} as is_final
    from team_offense as played
    full outer join scheduled_team_games as scheduled
        on
            played.game_id = scheduled.game_id
            and played.team_id = scheduled.team_id
),

with_arena as (
    select
        all_team_games.*,
        case when all_team_games.is_home then all_team_games.team_id else all_team_games.opponent_team_id end
            as arena_team_id
    from all_team_games
    where all_team_games.season_type not in ('preseason', 'all_star')
),

sequenced as (
    select
        with_arena.*,
        arena.arena_timezone,
        arena.arena_utc_offset_standard_hours as arena_utc_offset_hours,
        lag(with_arena.game_date) over team_season as previous_game_date,
        lag(with_arena.game_date, 2) over team_season as previous_game_date_2,
        lag(with_arena.game_date, 3) over team_season as previous_game_date_3,
        lag(with_arena.game_date, 4) over team_season as previous_game_date_4,
        lag(arena.arena_utc_offset_standard_hours) over team_season as previous_arena_utc_offset_hours,
        coalesce(sum(case when with_arena.is_played then 0 else 1 end) over (
            partition by with_arena.team_id, with_arena.season
            order by with_arena.game_date, with_arena.game_id
            rows between unbounded preceding and 1 preceding
        ), 0) as n_earlier_games_without_box_score
    from with_arena
    left join teams as arena
        on with_arena.arena_team_id = arena.team_id
    window team_season as (
        partition by with_arena.team_id, with_arena.season
        order by with_arena.game_date, with_arena.game_id
    )
),

final as (
    select
        -- ids
        game_id,
        team_id,
        opponent_team_id,
        arena_team_id,

        -- strings
        season,
        season_type,
        arena_timezone,

        -- booleans
        is_home,
        is_played,
        is_final,
        coalesce({{ dbt.datediff('previous_game_date', 'game_date', 'day') }} = 1, false) as is_back_to_back,

        -- dates
        game_date,
        previous_game_date,

        -- numerics
        case when is_home then 1 else 0 end as is_home_game,
        {{ dbt.datediff('previous_game_date', 'game_date', 'day') }} - 1 as team_days_rest,
        (case when {{ dbt.datediff('previous_game_date', 'game_date', 'day') }} <= 7 then 1 else 0 end)
        + (case when {{ dbt.datediff('previous_game_date_2', 'game_date', 'day') }} <= 7 then 1 else 0 end)
        + (case when {{ dbt.datediff('previous_game_date_3', 'game_date', 'day') }} <= 7 then 1 else 0 end)
        + (case when {{ dbt.datediff('previous_game_date_4', 'game_date', 'day') }} <= 7 then 1 else 0 end)
            as team_games_last_7_days,
        arena_utc_offset_hours,
        previous_arena_utc_offset_hours,
        coalesce(arena_utc_offset_hours - previous_arena_utc_offset_hours, 0) as timezone_change_hours,
        n_earlier_games_without_box_score,

        -- timestamps
        tip_at
    from sequenced
)

select * from final

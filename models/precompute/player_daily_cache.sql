{{
    config(
        materialized='incremental',
        incremental_strategy=date_replace_strategy(),
        unique_key='game_date',
        on_schema_change='append_new_columns',
    )
}}

{#- One row per (player, game date) the feature store needs, with the player's rolling box-score
    form computed ONLY from his games of the same season strictly before that date.
    Rows (the feature store's row set): players who played that date, players expected on the
    roster of a team playing that date (player_team_on_date), players with a resolved prop line
    for a game that date. Rolling state is computed once per game ("after game k": windows of the
    last 3/5/10 games and the season so far, partitioned by player and season) and each row takes
    the state of the player's last game before the date. Windows never cross seasons, so an
    incremental run reads only the seasons of the dates it rebuilds (delete+insert by game_date
    from features_refresh_from_date). -#}

with

-- player_game_summary is read three times, each with its own bound (from the refresh date; the
-- seasons of the row set), straight from the model so that DuckDB pushes the bound to the scan
-- and skips the older row groups (a CTE read more than once would be materialised whole)
rosters as (
    select * from {{ ref('player_team_on_date') }}
),

resolved_lines as (
    select * from {{ ref('player_prop_lines_resolved') }}
),

team_games as (
    select * from {{ ref('team_game_context') }}
),

bounds as (
    select {{ features_refresh_from_date('has_box_score') }} as refresh_from_date
),

-- the row set --------------------------------------------------------------------------------
played_rows as (
    select
        player_games.player_id,
        player_games.game_date,
        player_games.season,
        player_games.team_id,
        player_games.opponent_team_id,
        player_games.game_id,
        player_games.is_home,
        true as has_box_score,
        'played' as row_source,
        1 as source_priority
    from {{ ref('player_game_summary') }} as player_games
    cross join bounds
    where
        player_games.game_date >= bounds.refresh_from_date
        -- players who played on or after the run date were not known on its morning
        and {{ known_as_of_run_date('true', 'player_games.game_date') }}
),

roster_rows as (
    select
        rosters.player_id,
        rosters.game_date,
        rosters.season,
        rosters.team_id,
        rosters.opponent_team_id,
        rosters.game_id,
        rosters.is_home,
        rosters.is_played as has_box_score,
        'roster' as row_source,
        2 as source_priority
    from rosters
    cross join bounds
    where rosters.game_date >= bounds.refresh_from_date
),

line_players as (
    select distinct
        resolved_lines.player_id,
        resolved_lines.game_date,
        resolved_lines.resolved_team_id
    from resolved_lines
    cross join bounds
    where
        resolved_lines.is_resolved
        and resolved_lines.resolved_team_id is not null
        and resolved_lines.game_date >= bounds.refresh_from_date
),

line_rows as (
    select
        line_players.player_id,
        line_players.game_date,
        team_games.season,
        team_games.team_id,
        team_games.opponent_team_id,
        team_games.game_id,
        team_games.is_home,
        team_games.is_played as has_box_score,
        'prop_line' as row_source,
        3 as source_priority
    from line_players
    inner join team_games
        on
            line_players.resolved_team_id = team_games.team_id
            and line_players.game_date = team_games.game_date
),

spine as (
    select *
    from (
        select * from played_rows
        union all
        select * from roster_rows
        union all
        select * from line_rows
    ) as candidate_rows
    qualify row_number() over (
        partition by player_id, game_date
        order by source_priority
    ) = 1
),

-- rolling state after each game of the seasons in scope ---------------------------------------
scoped_games as (
    -- integer units (seconds, possessions x 100) so that every window sum is exact: the same
    -- inputs give bit-identical features whatever the partition size or summation order
    select
        player_games.*,
        cast(round(player_games.minutes * 60) as {{ dbt.type_bigint() }}) as minutes_seconds,
        cast(round(player_games.team_minutes * 60) as {{ dbt.type_bigint() }}) as team_minutes_seconds,
        100 * player_games.field_goals_attempted + 44 * player_games.free_throws_attempted
        + 100 * player_games.turnovers as possessions_used_x100,
        cast(round(player_games.team_possessions_used * 100) as {{ dbt.type_bigint() }}) as team_possessions_used_x100,
        row_number() over (
            partition by player_games.player_id, player_games.season
            order by player_games.game_date, player_games.game_id
        ) as game_number
    from {{ ref('player_game_summary') }} as player_games
    where player_games.season in (select distinct spine.season from spine)
),

window_sums as (
    select
        player_id,
        season,
        game_id,
        game_date,
        game_number,
        count(*) over last_3 as n_3,
        count(*) over last_5 as n_5,
        count(*) over last_10 as n_10,
        game_number as n_season,
        sum(points) over last_5 as points_5,
        sum(points) over last_10 as points_10,
        sum(points) over season_so_far as points_season,
        sum(points * points) over last_10 as points_squared_10,
        sum(points * points) over season_so_far as points_squared_season,
        sum(minutes_seconds) over last_3 as seconds_3,
        sum(minutes_seconds) over last_5 as seconds_5,
        sum(minutes_seconds) over last_10 as seconds_10,
        sum(minutes_seconds) over season_so_far as seconds_season,
        sum(minutes_seconds * minutes_seconds) over last_10 as seconds_squared_10,
        sum(field_goals_attempted) over last_5 as fga_5,
        sum(field_goals_attempted) over last_10 as fga_10,
        sum(three_pointers_attempted) over last_10 as fg3a_10,
        sum(free_throws_attempted) over last_10 as fta_10,
        sum(possessions_used_x100 * team_minutes_seconds) over last_10 as usage_numerator_10,
        sum(minutes_seconds * team_possessions_used_x100) over last_10 as usage_denominator_10,
        sum(possessions_used_x100 * team_minutes_seconds) over season_so_far as usage_numerator_season,
        sum(minutes_seconds * team_possessions_used_x100) over season_so_far as usage_denominator_season,
        sum(minutes_rank_in_team) over last_10 as minutes_rank_10,
        lag(game_date, 1) over season_order as previous_game_date_1,
        lag(game_date, 2) over season_order as previous_game_date_2,
        lag(game_date, 3) over season_order as previous_game_date_3
    from scoped_games
    window
        season_order as (partition by player_id, season order by game_number),
        last_3 as (partition by player_id, season order by game_number rows between 2 preceding and current row),
        last_5 as (partition by player_id, season order by game_number rows between 4 preceding and current row),
        last_10 as (partition by player_id, season order by game_number rows between 9 preceding and current row),
        season_so_far as (
            partition by player_id, season order by game_number rows between unbounded preceding and current row
        )
),

game_states as (
    select
        player_id,
        season,
        game_id,
        game_date,
        game_number,
        cast(points_5 as {{ type_double() }}) / n_5 as points_avg_last_5,
        cast(points_10 as {{ type_double() }}) / n_10 as points_avg_last_10,
        cast(points_season as {{ type_double() }}) / n_season as points_avg_season,
        case when n_10 > 1 then sqrt(
            cast(n_10 * points_squared_10 - points_10 * points_10 as {{ type_double() }}) / (n_10 * (n_10 - 1))
        ) end as points_std_last_10,
        case when n_season > 1 then sqrt(
            cast(n_season * points_squared_season - points_season * points_season as {{ type_double() }})
            / (n_season * (n_season - 1))
        ) end as points_std_season,
        cast(seconds_3 as {{ type_double() }}) / n_3 / 60 as minutes_avg_last_3,
        cast(seconds_5 as {{ type_double() }}) / n_5 / 60 as minutes_avg_last_5,
        cast(seconds_10 as {{ type_double() }}) / n_10 / 60 as minutes_avg_last_10,
        cast(seconds_season as {{ type_double() }}) / n_season / 60 as minutes_avg_season,
        case when n_10 > 1 then sqrt(
            cast(n_10 * seconds_squared_10 - seconds_10 * seconds_10 as {{ type_double() }}) / (n_10 * (n_10 - 1))
        ) / 60 end as minutes_std_last_10,
        cast(fga_5 as {{ type_double() }}) / n_5 as fga_avg_last_5,
        cast(fga_10 as {{ type_double() }}) / n_10 as fga_avg_last_10,
        100.0 * usage_numerator_10 / nullif(5 * usage_denominator_10, 0) as usage_rate_last_10,
        100.0 * usage_numerator_season / nullif(5 * usage_denominator_season, 0) as usage_rate_season,
        60.0 * points_10 / nullif(seconds_10, 0) as points_per_minute_last_10,
        cast(fg3a_10 as {{ type_double() }}) / nullif(fga_10, 0) as fg3a_rate_last_10,
        cast(fta_10 as {{ type_double() }}) / nullif(fga_10, 0) as fta_rate_last_10,
        cast(minutes_rank_10 as {{ type_double() }}) / n_10 as minutes_rank_avg_last_10,
        previous_game_date_1,
        previous_game_date_2,
        previous_game_date_3
    from window_sums
),

-- each row's last game strictly before its date: rows sort before that date's games -----------
events as (
    select
        player_id,
        season,
        game_date,
        0 as event_order,
        cast(null as {{ dbt.type_int() }}) as game_number
    from spine

    union all

    select
        player_id,
        season,
        game_date,
        1 as event_order,
        game_number
    from game_states
),

located as (
    select
        player_id,
        game_date,
        max(game_number) over (
            partition by player_id, season
            order by game_date, event_order
            rows between unbounded preceding and current row
        ) as last_game_number,
        event_order
    from events
),

with_state as (
    select
        spine.*,
        game_states.game_date as last_game_date,
        game_states.game_id as last_game_id,
        game_states.points_avg_last_5,
        game_states.points_avg_last_10,
        game_states.points_avg_season,
        game_states.points_std_last_10,
        game_states.points_std_season,
        game_states.minutes_avg_last_3,
        game_states.minutes_avg_last_5,
        game_states.minutes_avg_last_10,
        game_states.minutes_avg_season,
        game_states.minutes_std_last_10,
        game_states.fga_avg_last_5,
        game_states.fga_avg_last_10,
        game_states.usage_rate_last_10,
        game_states.usage_rate_season,
        game_states.points_per_minute_last_10,
        game_states.fg3a_rate_last_10,
        game_states.fta_rate_last_10,
        game_states.minutes_rank_avg_last_10,
        game_states.previous_game_date_1,
        game_states.previous_game_date_2,
        game_states.previous_game_date_3,
        coalesce(located.last_game_number, 0) as games_played_season
    from spine
    inner join located
        on
            spine.player_id = located.player_id
            and spine.game_date = located.game_date
            and located.event_order = 0
    left join game_states
        on
            spine.player_id = game_states.player_id
            and spine.season = game_states.season
            and located.last_game_number = game_states.game_number
),

did_play_lookup as (
    select
        player_games.player_id,
        player_games.game_date
    from {{ ref('player_game_summary') }} as player_games
    cross join bounds
    where player_games.game_date >= bounds.refresh_from_date
),

final as (
    select
        -- ids
        with_state.player_id,
        with_state.team_id,
        with_state.opponent_team_id,
        with_state.game_id,
        with_state.last_game_id,

        -- strings
        with_state.season,
        with_state.row_source,
        {{ role_from_minutes_rank('with_state.minutes_rank_avg_last_10') }} as role_proxy,

        -- booleans
        with_state.is_home,
        with_state.has_box_score,
        case
            when with_state.has_box_score then did_play_lookup.player_id is not null
        end as did_play,

        -- dates
        with_state.game_date,
        with_state.last_game_date,

        -- numerics: rolling form (games of the season strictly before game_date)
        with_state.points_avg_last_5,
        with_state.points_avg_last_10,
        with_state.points_avg_season,
        with_state.points_std_last_10,
        with_state.points_std_season,
        with_state.minutes_avg_last_3,
        with_state.minutes_avg_last_5,
        with_state.minutes_avg_last_10,
        with_state.minutes_avg_season,
        with_state.minutes_std_last_10,
        with_state.fga_avg_last_5,
        with_state.fga_avg_last_10,
        with_state.usage_rate_last_10,
        with_state.usage_rate_season,
        with_state.points_per_minute_last_10,
        with_state.fg3a_rate_last_10,
        with_state.fta_rate_last_10,
        with_state.minutes_rank_avg_last_10,
        with_state.minutes_avg_last_3 - with_state.minutes_avg_last_10 as minutes_trend,
        with_state.games_played_season,

        -- numerics: rest
        {{ dbt.datediff('with_state.last_game_date', 'with_state.game_date', 'day') }} as days_since_last_game,
        {{ dbt.datediff('with_state.last_game_date', 'with_state.game_date', 'day') }} - 1 as days_rest,
        case
            when {{ dbt.datediff('with_state.last_game_date', 'with_state.game_date', 'day') }} = 1 then 1 else 0
        end as is_back_to_back,
        (
            case
                when {{ dbt.datediff('with_state.last_game_date', 'with_state.game_date', 'day') }} <= 7 then 1 else 0
            end
        )
        + (
            case
                when
                    {{ dbt.datediff('with_state.previous_game_date_1', 'with_state.game_date', 'day') }} <= 7
                    then 1 else
                    0
            end
        )
        + (
            case
                when
                    {{ dbt.datediff('with_state.previous_game_date_2', 'with_state.game_date', 'day') }} <= 7
                    then 1 else
                    0
            end
        )
        + (
            case
                when
                    {{ dbt.datediff('with_state.previous_game_date_3', 'with_state.game_date', 'day') }} <= 7
                    then 1 else
                    0
            end
        )
            as games_last_7_days,

        -- timestamps
        {{ features_run_at() }} as computed_at
    from with_state
    left join did_play_lookup
        on
            with_state.player_id = did_play_lookup.player_id
            and with_state.game_date = did_play_lookup.game_date
)

select * from final

{{
    config(
        materialized='incremental',
        incremental_strategy=date_replace_strategy(),
        unique_key='game_date',
        on_schema_change='append_new_columns',
    )
}}

{#- One row per player_daily_cache row (player, game date): composite factors and their
    components, all as of the morning of the date.
      fatigue_score (0-100) = 35 if back-to-back
                              + 15 per game in the last 7 days beyond two (max 30)
                              + 5 per hour of time-zone change (max 15)
                              + minutes load: 2 per minute of minutes_avg_last_5 above 30 (max 20)
      matchup_factor        = (expected pace / league pace to date)
                              * (opponent defensive rating / league defensive rating to date);
                              expected pace = mean of the team's and the opponent's pace (last 10)
      shot_mix_factor       = 1 + fg3a_rate * (opponent 3PA rate allowed / league - 1)
                                + fta_rate * (opponent FTA rate allowed / league - 1)
    Shot mix uses box-score attempt rates only: the data has no shot locations. Missing inputs
    leave the factor null (the feature store then uses the default and lowers the quality). -#}

with

bounds as (
    select {{ features_refresh_from_date('has_box_score') }} as refresh_from_date
),

-- every source is read from the refresh date on: the rows are joined on the same game date (or
-- the same game), so the older history is never needed (and its row groups are skipped)
daily_cache as (
    select * from {{ ref('player_daily_cache') }}
    where game_date >= (select bounds.refresh_from_date from bounds)
),

defense_profiles as (
    select * from {{ ref('team_defense_profile') }}
    where game_date >= (select bounds.refresh_from_date from bounds)
),

team_games as (
    select * from {{ ref('team_game_context') }}
    where game_date >= (select bounds.refresh_from_date from bounds)
),

joined as (
    select
        daily_cache.player_id,
        daily_cache.game_date,
        daily_cache.team_id,
        daily_cache.opponent_team_id,
        daily_cache.game_id,
        daily_cache.season,
        daily_cache.has_box_score,
        daily_cache.role_proxy,
        daily_cache.points_avg_last_10,
        daily_cache.minutes_avg_last_5,
        daily_cache.fg3a_rate_last_10,
        daily_cache.fta_rate_last_10,
        daily_cache.is_back_to_back,
        daily_cache.games_last_7_days,
        team_games.timezone_change_hours,
        opponent.defensive_rating_last_10 as opponent_defensive_rating_last_10,
        opponent.pace_last_10 as opponent_pace_last_10,
        opponent.points_allowed_last_10 as opponent_points_allowed_last_10,
        case daily_cache.role_proxy
            when 'lead' then opponent.points_allowed_to_lead_last_10
            when 'starter' then opponent.points_allowed_to_starter_last_10
            when 'bench' then opponent.points_allowed_to_bench_last_10
        end as opponent_points_allowed_to_role_last_10,
        opponent.opponent_three_point_attempt_rate_last_10 as opponent_three_point_attempt_rate_allowed_last_10,
        opponent.opponent_free_throw_attempt_rate_last_10 as opponent_free_throw_attempt_rate_allowed_last_10,
        opponent.last_played_date as opponent_last_played_date,
        own_team.pace_last_10 as team_pace_last_10,
        own_team.last_played_date as team_last_played_date,
        opponent.league_defensive_rating_to_date,
        opponent.league_pace_to_date,
        opponent.league_three_point_attempt_rate_to_date,
        opponent.league_free_throw_attempt_rate_to_date
    from daily_cache
    cross join bounds
    left join team_games
        on
            daily_cache.game_id = team_games.game_id
            and daily_cache.team_id = team_games.team_id
    left join defense_profiles as opponent
        on
            daily_cache.opponent_team_id = opponent.team_id
            and daily_cache.game_date = opponent.game_date
    left join defense_profiles as own_team
        on
            daily_cache.team_id = own_team.team_id
            and daily_cache.game_date = own_team.game_date
    where daily_cache.game_date >= bounds.refresh_from_date
),

factors as (
    select
        joined.*,
        least(35 * joined.is_back_to_back, 35)
        + least(15 * greatest(joined.games_last_7_days - 2, 0), 30)
        + least(5 * abs(coalesce(joined.timezone_change_hours, 0)), 15)
        + least(2 * greatest(coalesce(joined.minutes_avg_last_5, 0) - 30, 0), 20) as fatigue_score,
        (joined.team_pace_last_10 + joined.opponent_pace_last_10) / 2.0 as expected_pace,
        ((joined.team_pace_last_10 + joined.opponent_pace_last_10) / 2.0) / nullif(joined.league_pace_to_date, 0)
        * (joined.opponent_defensive_rating_last_10 / nullif(joined.league_defensive_rating_to_date, 0))
            as matchup_factor,
        1
        + joined.fg3a_rate_last_10
        * (
            joined.opponent_three_point_attempt_rate_allowed_last_10
            / nullif(joined.league_three_point_attempt_rate_to_date, 0)
            - 1
        )
        + joined.fta_rate_last_10
        * (
            joined.opponent_free_throw_attempt_rate_allowed_last_10
            / nullif(joined.league_free_throw_attempt_rate_to_date, 0)
            - 1
        )
            as shot_mix_factor
    from joined
),

final as (
    select
        -- ids
        player_id,
        team_id,
        opponent_team_id,
        game_id,

        -- strings
        season,
        role_proxy,

        -- booleans
        has_box_score,

        -- dates
        game_date,
        opponent_last_played_date,
        team_last_played_date,

        -- numerics: factors
        cast(fatigue_score as {{ type_double() }}) as fatigue_score,
        matchup_factor,
        shot_mix_factor,
        points_avg_last_10 * matchup_factor as expected_points_matchup_adjusted,

        -- numerics: components
        is_back_to_back,
        games_last_7_days,
        timezone_change_hours,
        minutes_avg_last_5,
        fg3a_rate_last_10,
        fta_rate_last_10,
        expected_pace,
        team_pace_last_10,
        opponent_pace_last_10,
        opponent_defensive_rating_last_10,
        opponent_points_allowed_last_10,
        opponent_points_allowed_to_role_last_10,
        opponent_three_point_attempt_rate_allowed_last_10,
        opponent_free_throw_attempt_rate_allowed_last_10,
        league_pace_to_date,
        league_defensive_rating_to_date,
        league_three_point_attempt_rate_to_date,
        league_free_throw_attempt_rate_to_date,

        -- timestamps
        {{ features_run_at() }} as computed_at
    from factors
)

select * from final

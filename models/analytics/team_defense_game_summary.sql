{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        incremental_predicates=incremental_window_predicates('game_date'),
        unique_key=['game_id', 'team_id'],
        on_schema_change='append_new_columns',
    )
}}

{#- One row per team per game seen from the defence: what the opponent scored and shot against
    this team (from team_offense_game_summary, itself aggregated from player rows). -#}

with

{% if is_incremental() %}
    -- both sides of the games changed since the last build (bounded by date: the scan skips
    -- the older row groups)
    {{ changed_games_ctes('team_offense', ref('team_offense_game_summary')) }},
{% else %}
    team_offense as (
        select * from {{ ref('team_offense_game_summary') }}
    ),
{% endif %}

paired as (
    select
        defending.game_id,
        defending.team_id,
        defending.opponent_team_id,
        defending.team_tricode,
        defending.season,
        defending.season_type,
        defending.is_home,
        defending.game_date,
        defending.pace,
        defending.is_complete,
        defending.team_minutes,
        attacking.points as points_allowed,
        attacking.possessions as opponent_possessions,
        attacking.field_goals_attempted as opponent_field_goals_attempted,
        attacking.three_pointers_attempted as opponent_three_pointers_attempted,
        attacking.free_throws_attempted as opponent_free_throws_attempted,
        attacking.offensive_rebounds as opponent_offensive_rebounds,
        attacking.turnovers as opponent_turnovers,
        attacking.effective_field_goal_pct as opponent_effective_field_goal_pct,
        greatest(defending.source_scraped_at, attacking.source_scraped_at) as source_scraped_at
    from team_offense as defending
    inner join team_offense as attacking
        on
            defending.game_id = attacking.game_id
            and defending.team_id <> attacking.team_id
),

final as (
    select
        -- ids
        game_id,
        team_id,
        opponent_team_id,

        -- strings
        team_tricode,
        season,
        season_type,

        -- booleans
        is_home,
        is_complete,

        -- dates
        game_date,

        -- numerics
        points_allowed,
        opponent_possessions,
        opponent_field_goals_attempted,
        opponent_three_pointers_attempted,
        opponent_free_throws_attempted,
        opponent_offensive_rebounds,
        opponent_turnovers,
        opponent_effective_field_goal_pct,
        pace,
        case when is_complete then 100.0 * points_allowed / nullif(opponent_possessions, 0) end as defensive_rating,
        opponent_three_pointers_attempted * 1.0
        / nullif(opponent_field_goals_attempted, 0) as opponent_three_point_attempt_rate,
        opponent_free_throws_attempted * 1.0
        / nullif(opponent_field_goals_attempted, 0) as opponent_free_throw_attempt_rate,

        -- timestamps
        source_scraped_at
    from paired
)

select * from final

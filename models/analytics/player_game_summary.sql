{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        incremental_predicates=incremental_window_predicates('game_date'),
        unique_key=['game_id', 'player_id'],
        on_schema_change='append_new_columns',
    )
}}

{#- One row per player per game. Incremental: staged rows scraped after this table's newest
    source_scraped_at mark their (player, season) pairs as changed (plus every player of a changed
    game, because team totals change); those pairs are recomputed whole, so rest days and game
    numbers stay right when a late game is inserted. Cost = one season of the affected players. -#}

with

game_logs as (
    select * from {{ ref('stg_nba__player_game_logs') }}
    {% if is_incremental() %}
        -- everything below stays inside the seasons of the new rows (pairs are per player and
        -- season, and a game has one season): the scan skips the row groups of other seasons
        where season in (
            select new_rows.season
            from {{ ref('stg_nba__player_game_logs') }} as new_rows
            where new_rows.scraped_at > {{ newest_already_built() }}
        )
    {% endif %}
),

{% if is_incremental() %}
    changed_rows as (
        select
            game_id,
            player_id,
            season
        from game_logs
        where scraped_at > {{ newest_already_built() }}
    ),

    batch_pairs as (
        select distinct
            game_logs.player_id,
            game_logs.season
        from game_logs
        inner join (select distinct game_id from changed_rows) as changed_games
            on game_logs.game_id = changed_games.game_id
    ),

    scoped_logs as (
        select game_logs.*
        from game_logs
        inner join batch_pairs
            on
                game_logs.player_id = batch_pairs.player_id
                and game_logs.season = batch_pairs.season
    ),
{% else %}
    scoped_logs as (
        select * from game_logs
    ),
{% endif %}

-- team totals and minutes ranks over ALL the players of each game in scope (an incremental batch
-- holds only the affected players' rows of older games)
scoped_game_rows as (
    select
        game_id,
        team_id,
        player_id,
        minutes,
        points,
        field_goals_attempted + 0.44 * free_throws_attempted + turnovers as possessions_used
    from game_logs
    where game_id in (select scoped_logs.game_id from scoped_logs)
),

team_totals as (
    select
        game_id,
        team_id,
        sum(minutes) as team_minutes,
        sum(points) as team_points,
        sum(possessions_used) as team_possessions_used
    from scoped_game_rows
    group by game_id, team_id
),

minutes_ranks as (
    select
        game_id,
        player_id,
        row_number() over (
            partition by game_id, team_id
            order by minutes desc, points desc, player_id asc
        ) as minutes_rank_in_team
    from scoped_game_rows
),

with_team as (
    select
        scoped_logs.*,
        team_totals.team_minutes,
        team_totals.team_points,
        team_totals.team_possessions_used,
        scoped_logs.field_goals_attempted + 0.44 * scoped_logs.free_throws_attempted
        + scoped_logs.turnovers as possessions_used,
        minutes_ranks.minutes_rank_in_team
    from scoped_logs
    inner join team_totals
        on
            scoped_logs.game_id = team_totals.game_id
            and scoped_logs.team_id = team_totals.team_id
    inner join minutes_ranks
        on
            scoped_logs.game_id = minutes_ranks.game_id
            and scoped_logs.player_id = minutes_ranks.player_id
),

sequenced as (
    select
        with_team.*,
        row_number() over (
            partition by with_team.player_id, with_team.season
            order by with_team.game_date, with_team.game_id
        ) as game_number_in_season,
        lag(with_team.game_date) over (
            partition by with_team.player_id, with_team.season
            order by with_team.game_date, with_team.game_id
        ) as previous_game_date
    from with_team
),

final as (
    select
        -- ids
        game_id,
        player_id,
        team_id,
        opponent_team_id,

        -- strings
        player_name,
        team_tricode,
        opponent_tricode,
        season,
        season_type,
        win_loss,

        -- booleans
        is_home,
        minutes_rank_in_team <= 5 as is_top5_minutes,
        {{ dbt.datediff('previous_game_date', 'game_date', 'day') }} = 1 as is_back_to_back,

        -- dates
        game_date,
        previous_game_date,

        -- numerics: box score
        minutes,
        points,
        field_goals_made,
        field_goals_attempted,
        three_pointers_made,
        three_pointers_attempted,
        free_throws_made,
        free_throws_attempted,
        offensive_rebounds,
        defensive_rebounds,
        rebounds,
        assists,
        steals,
        blocks,
        turnovers,
        personal_fouls,
        plus_minus,

        -- numerics: derived
        field_goals_made * 1.0 / nullif(field_goals_attempted, 0) as field_goal_pct,
        three_pointers_made * 1.0 / nullif(three_pointers_attempted, 0) as three_point_pct,
        free_throws_made * 1.0 / nullif(free_throws_attempted, 0) as free_throw_pct,
        points / nullif(2.0 * (field_goals_attempted + 0.44 * free_throws_attempted), 0) as true_shooting_pct,
        three_pointers_attempted * 1.0 / nullif(field_goals_attempted, 0) as three_point_attempt_rate,
        free_throws_attempted * 1.0 / nullif(field_goals_attempted, 0) as free_throw_attempt_rate,
        possessions_used,
        team_possessions_used,
        team_minutes,
        team_points,
        100.0 * possessions_used * (team_minutes / 5.0)
        / nullif(minutes * team_possessions_used, 0) as usage_rate,
        minutes_rank_in_team,
        game_number_in_season,
        {{ dbt.datediff('previous_game_date', 'game_date', 'day') }} - 1 as days_rest,

        -- timestamps
        scraped_at as source_scraped_at
    from sequenced
)

select * from final

{{
    config(
        materialized='incremental',
        incremental_strategy=date_replace_strategy(),
        unique_key='game_date',
        on_schema_change='append_new_columns',
        cluster_by=['player_id'],
    )
}}

{#- Season carry-over and availability features, one row per player_daily_cache row (player, game
    date), as of the morning of the game date (docs/features.md "Carry-over and availability").

    Carry-over: the player's previous season (per-game points, minutes, usage rate, games) and a
    prior for this season = the previous season shrunk toward the league average of his previous
    role (lead / starter / bench, by mean minutes rank) by var ml_carryover_prior_games games,
    averaged half-and-half with that role average when he changed team; rookies (no previous
    season) get the league average of the previous season's first-year players. The blended
    figures mix this season's average with the prior by games played:
    (games * season_avg + k * prior) / (games + k), k = var ml_carryover_prior_games.

    Availability: a regular of a team on a board date had a line for the team on >= 2 of its 4
    previous line boards and, at his latest of those dates, >= ml_availability_min_games games and
    >= ml_availability_min_minutes mean minutes over his last 5, with a box-score game within
    ml_availability_max_days_since_game days before the date; he is absent when his team has a line
    board on the date and he has no line on it. Vacated minutes / usage / points are those absent teammates' season
    averages (the player himself excluded). The minutes projection gives the vacated minutes to
    the present regulars in proportion to their base minutes. Only games before the date and lines
    of the date itself (the morning board) are read.

    Incremental: delete+insert by game_date from features_refresh_from_date (a built date counts
    as played when it is before the run's reference date). Bounded reads: player_daily_cache from
    the earliest of the refresh date and the line boards the availability rule looks back to (the
    states at a regular's latest lined date); season totals, roles, priors and first seasons from
    player_season_summary (a few thousand rows, not the box-score history); player_game_summary
    only from the refresh date minus ml_availability_max_days_since_game (last games); the line
    boards whole (a team's 4 previous boards have no date bound). -#}

{%- set k = var('ml_carryover_prior_games') -%}

with

bounds as (
    select
        refresh.refresh_from_date,
        -- a constant for the scan (an expression of a subquery is not pushed down to it)
        cast(
            {{ dbt.dateadd('day', -1 * var('ml_availability_max_days_since_game'), 'refresh.refresh_from_date') }}
            as date
        ) as last_games_from_date
    from (
        select
            {{ features_refresh_from_date('already_built.game_date < ' ~ features_reference_date()) }}
                as refresh_from_date
    ) as refresh
),

resolved_lines as (
    select * from {{ ref('player_prop_lines_resolved') }}
),

-- availability candidates first: their latest lined dates bound the daily cache read ----------
lined_players as (
    select distinct
        player_id,
        resolved_team_id as team_id,
        game_date
    from resolved_lines
    where is_resolved and resolved_team_id is not null
),

team_boards as (
    select
        team_id,
        game_date,
        row_number() over (partition by team_id order by game_date) as board_number
    from (select distinct
        team_id,
        game_date
    from lined_players) as boards
),

usual_lines as (
    -- (player, team, board): how many of the team's 4 previous boards had a line for the player
    -- (boards from the refresh date: the rows this run builds)
    select
        team_boards.team_id,
        team_boards.game_date,
        lined_players.player_id,
        count(*) as recent_lines,
        max(earlier.game_date) as last_lined_date
    from team_boards
    inner join team_boards as earlier
        on
            team_boards.team_id = earlier.team_id
            and earlier.board_number between team_boards.board_number - 4 and team_boards.board_number - 1
    inner join lined_players
        on
            earlier.team_id = lined_players.team_id
            and earlier.game_date = lined_players.game_date
    where team_boards.game_date >= (select bounds.refresh_from_date from bounds)
    group by team_boards.team_id, team_boards.game_date, lined_players.player_id
),

state_bounds as (
    -- the daily cache rows needed: from the refresh date, and the candidates' latest lined dates
    select
        least(
            (select bounds.refresh_from_date from bounds),
            coalesce(min(usual_lines.last_lined_date), (select bounds.refresh_from_date from bounds))
        ) as states_from_date
    from usual_lines
),

daily_cache as (
    select * from {{ ref('player_daily_cache') }}
    where game_date >= (select state_bounds.states_from_date from state_bounds)
),

-- carry-over: season totals from player_season_summary (one row per player, season and name;
-- the totals repeat on each name row), never the box-score history itself ---------------------
player_seasons as (
    select distinct
        player_id,
        season,
        season_start_year,
        last_team_id,
        games,
        points_avg,
        minutes_avg,
        usage_rate_avg,
        minutes_rank_avg
    from {{ ref('player_season_summary') }}
),

first_seasons as (
    select
        player_id,
        min(season_start_year) as first_start_year
    from player_seasons
    group by player_id
),

season_rows as (
    select
        player_seasons.*,
        {{ role_from_minutes_rank('player_seasons.minutes_rank_avg') }} as role,
        first_seasons.first_start_year
    from player_seasons
    inner join first_seasons
        on player_seasons.player_id = first_seasons.player_id
),

league_first_start as (
    select min(first_start_year) as first_year from first_seasons
),

role_priors as (
    select
        season_start_year,
        role,
        {{ exact_avg('points_avg') }} as points_avg,
        {{ exact_avg('minutes_avg') }} as minutes_avg,
        {{ exact_avg('usage_rate_avg') }} as usage_rate_avg
    from season_rows
    group by season_start_year, role
),

rookie_priors as (
    -- first-year players of a season (not the first season of the data, where all are "new")
    select
        season_rows.season_start_year,
        {{ exact_avg('season_rows.points_avg') }} as points_avg,
        {{ exact_avg('season_rows.minutes_avg') }} as minutes_avg,
        {{ exact_avg('season_rows.usage_rate_avg') }} as usage_rate_avg
    from season_rows
    cross join league_first_start
    where
        season_rows.first_start_year = season_rows.season_start_year
        and season_rows.season_start_year > league_first_start.first_year
    group by season_rows.season_start_year
),

rows_with_previous as (
    select
        daily_cache.player_id,
        daily_cache.game_date,
        daily_cache.team_id,
        daily_cache.games_played_season,
        daily_cache.points_avg_season,
        daily_cache.minutes_avg_season,
        daily_cache.usage_rate_season,
        daily_cache.minutes_avg_last_5,
        daily_cache.days_since_last_game,
        previous.games as prev_season_games,
        previous.points_avg as prev_season_points_avg,
        previous.minutes_avg as prev_season_minutes_avg,
        previous.usage_rate_avg as prev_season_usage_rate,
        case when previous.player_id is not null then previous.last_team_id <> daily_cache.team_id end
            as is_new_team,
        role_priors.points_avg as role_points_avg,
        role_priors.minutes_avg as role_minutes_avg,
        role_priors.usage_rate_avg as role_usage_rate_avg,
        rookie_priors.points_avg as rookie_points_avg,
        rookie_priors.minutes_avg as rookie_minutes_avg,
        rookie_priors.usage_rate_avg as rookie_usage_rate_avg
    from daily_cache
    left join season_rows as previous
        on
            daily_cache.player_id = previous.player_id
            and cast(substr(daily_cache.season, 1, 4) as {{ dbt.type_int() }}) - 1 = previous.season_start_year
    left join role_priors
        on
            previous.season_start_year = role_priors.season_start_year
            and previous.role = role_priors.role
    left join rookie_priors
        on cast(substr(daily_cache.season, 1, 4) as {{ dbt.type_int() }}) - 1 = rookie_priors.season_start_year
),

priors as (
    select
        rows_with_previous.*,
        -- noqa: disable=all
        {%- for stat, prev, role, rookie in [
            ('points', 'prev_season_points_avg', 'role_points_avg', 'rookie_points_avg'),
            ('minutes', 'prev_season_minutes_avg', 'role_minutes_avg', 'rookie_minutes_avg'),
            ('usage_rate', 'prev_season_usage_rate', 'role_usage_rate_avg', 'rookie_usage_rate_avg'),
        ] %}
        {%- set shrunk = carryover_blend(prev, 'prev_season_games', role, k) %}
        case
            when {{ prev }} is null then {{ rookie }}
            when is_new_team then 0.5 * {{ shrunk }} + 0.5 * {{ role }}
            else {{ shrunk }}
        end as {{ stat }}_prior{{ "," if not loop.last }}
        {%- endfor %}
    -- noqa: enable=all
    from rows_with_previous
),

blended_raw as (
    select
        priors.*,
        -- noqa: disable=all
        {%- for stat, season_avg in [
            ('points', 'points_avg_season'),
            ('minutes', 'minutes_avg_season'),
            ('usage_rate', 'usage_rate_season'),
        ] %}
        case
            when {{ stat }}_prior is null then {{ season_avg }}
            when games_played_season = 0 or {{ season_avg }} is null then {{ stat }}_prior
            else {{ carryover_blend(season_avg, 'games_played_season', stat ~ '_prior', k) }}
        end as {{ stat }}_blended{{ "," if not loop.last }}
        {%- endfor %}
    -- noqa: enable=all
    from priors
),

blended as (
    select
        blended_raw.*,
        coalesce(
            0.5 * blended_raw.minutes_avg_last_5 + 0.5 * blended_raw.minutes_blended, blended_raw.minutes_blended
        ) as base_minutes
    from blended_raw
),

-- availability --------------------------------------------------------------------------------
last_games as (
    -- each candidate's last game strictly before the board date (box scores only)
    select
        usual_lines.player_id,
        usual_lines.team_id,
        usual_lines.game_date,
        max(recent_games.game_date) as last_game_date
    from usual_lines
    inner join {{ ref('player_game_summary') }} as recent_games
        on
            usual_lines.player_id = recent_games.player_id
            and usual_lines.game_date > recent_games.game_date
    -- only a game within ml_availability_max_days_since_game days of the board date counts
    where recent_games.game_date >= (select bounds.last_games_from_date from bounds)
    group by usual_lines.player_id, usual_lines.team_id, usual_lines.game_date
),

regulars as (
    -- the team's regulars on a board date, from the line boards before it and each player's state
    -- at his latest lined date before it (never from the date's own row set, which differs between
    -- the morning and after the games); present regulars take today's base minutes
    select
        usual_lines.player_id,
        usual_lines.team_id,
        usual_lines.game_date,
        state.minutes_avg_season,
        state.usage_rate_season,
        state.points_avg_season,
        coalesce(today.base_minutes, state.base_minutes) as base_minutes,
        lined_players.player_id is null as is_absent
    from usual_lines
    inner join blended as state
        on
            usual_lines.player_id = state.player_id
            and usual_lines.last_lined_date = state.game_date
    inner join last_games
        on
            usual_lines.player_id = last_games.player_id
            and usual_lines.team_id = last_games.team_id
            and usual_lines.game_date = last_games.game_date
    left join lined_players
        on
            usual_lines.player_id = lined_players.player_id
            and usual_lines.game_date = lined_players.game_date
    left join blended as today
        on
            usual_lines.player_id = today.player_id
            and usual_lines.game_date = today.game_date
    where
        usual_lines.recent_lines >= 2
        and state.games_played_season >= {{ var('ml_availability_min_games') }}
        and state.minutes_avg_last_5 >= {{ var('ml_availability_min_minutes') }}
        and {{ dbt.datediff('last_games.last_game_date', 'usual_lines.game_date', 'day') }}
        <= {{ var('ml_availability_max_days_since_game') }}
),

team_availability as (
    -- sums in integer micro-units: exact whatever the summation order (bit-identical reruns)
    select
        team_id,
        game_date,
        sum(case when is_absent then 1 else 0 end) as absent_count,
        -- noqa: disable=all
        {%- for name, column, condition in [
            ('absent_minutes', 'minutes_avg_season', 'is_absent'),
            ('absent_usage', 'usage_rate_season', 'is_absent'),
            ('absent_points', 'points_avg_season', 'is_absent'),
            ('present_base_minutes', 'base_minutes', 'not is_absent'),
        ] %}
        sum(
            case
                when {{ condition }} then cast(round({{ column }} * 1000000) as {{ dbt.type_bigint() }})
                else 0
            end
        ) / 1000000.0 as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
    -- noqa: enable=all
    from regulars
    group by team_id, game_date
),

with_availability as (
    select
        blended.*,
        coalesce(team_availability.absent_count, 0)
        - case when coalesce(regulars.is_absent, false) then 1 else 0 end as teammates_absent,
        coalesce(team_availability.absent_minutes, 0)
        - case when coalesce(regulars.is_absent, false) then regulars.minutes_avg_season else 0 end
            as vacated_minutes,
        coalesce(team_availability.absent_usage, 0)
        - case when coalesce(regulars.is_absent, false) then regulars.usage_rate_season else 0 end
            as vacated_usage,
        coalesce(team_availability.absent_points, 0)
        - case when coalesce(regulars.is_absent, false) then regulars.points_avg_season else 0 end
            as vacated_points,
        team_availability.present_base_minutes,
        coalesce(regulars.is_absent, false) as is_absent
    from blended
    left join team_availability
        on
            blended.team_id = team_availability.team_id
            and blended.game_date = team_availability.game_date
    left join regulars
        on
            blended.player_id = regulars.player_id
            and blended.team_id = regulars.team_id
            and blended.game_date = regulars.game_date
),

projected as (
    select
        with_availability.*,
        least(
            44.0,
            with_availability.base_minutes
            + case
                when with_availability.present_base_minutes > 0 and not with_availability.is_absent
                    then
                        with_availability.vacated_minutes
                        * with_availability.base_minutes
                        / with_availability.present_base_minutes
                else 0
            end
        ) as projected_minutes
    from with_availability
),

final as (
    select
        -- ids
        player_id,
        team_id,

        -- dates
        game_date,

        -- numerics: carry-over
        cast(prev_season_games as {{ dbt.type_int() }}) as prev_season_games,
        prev_season_points_avg,
        prev_season_minutes_avg,
        prev_season_usage_rate,
        cast(case when is_new_team then 1 else 0 end as {{ dbt.type_int() }}) as is_new_team,
        points_prior,
        minutes_prior,
        usage_rate_prior,
        points_blended as points_avg_blended,
        minutes_blended as minutes_avg_blended,
        usage_rate_blended,

        -- numerics: availability
        cast(case when is_absent then 1 else 0 end as {{ dbt.type_int() }}) as is_expected_absent,
        cast(teammates_absent as {{ dbt.type_int() }}) as teammates_absent,
        vacated_minutes,
        vacated_usage,
        vacated_points,
        projected_minutes,
        projected_minutes * points_blended / nullif(minutes_blended, 0) as projected_points
    from projected
    -- the older daily cache rows were read for the regulars' states only
    where game_date >= (select bounds.refresh_from_date from bounds)
)

select * from final

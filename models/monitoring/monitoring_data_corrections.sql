{{ config(materialized='table') }}

{%- set corrected_fields = ['points', 'minutes'] %}
{%- set stated_ladder = ['event_id', 'player_name', 'bookmaker_key', 'market_key', 'captured_at', 'payload_id'] %}

{#- Corrections to landed history (issue #11 point 2): every box-score value (points, minutes) of a
    (game, player) that a later payload changed, old -> new, with the payload that had it and the
    one that changed it. Staging keeps the latest row per key, so these changes flow into grading
    (prediction_accuracy, system_daily_performance) of a finished date: `nba-props run-day` raises a
    `data_correction` alert for each, and the report's data-health page lists them; re-grading a
    date is then an explicit `nba-props grade --date D`.
    Prop lines: a later payload that restates an already landed snapshot (same event, player, book,
    market and capture time) with a different main line (the main-line rule applied to each
    payload's own ladder, macros/odds/main_line.sql). Graded picks keep the line they were made
    against; a line correction changes past consensus lines, coverage and line-movement features.
    Retracted payloads are left out. -#}

with

game_log_rows as (
    select * from {{ source('nba', 'player_game_logs') }}
    -- every partition: a correction may change a game of any age
    where {{ all_partitions_filter('scraped_at', 'timestamp') }} and {{ not_retracted() }}
),

versions as (
    -- the order in which staging lets a later row win (stg_nba__player_game_logs)
    select
        game_id,
        player_id,
        player_name,
        game_date,
        payload_id,
        scraped_at,
        {%- for field in corrected_fields %}
            {{ field }},
            lag({{ field }}) over key_history as previous_{{ field }},
        {%- endfor %}
        lag(payload_id) over key_history as previous_payload_id
    from game_log_rows
    window key_history as (partition by game_id, player_id order by scraped_at, payload_id, record_index)
),

prop_rows as (
    select
        event_id,
        player_name,
        bookmaker_key,
        market_key,
        captured_at,
        payload_id,
        scraped_at,
        line_points,
        over_price is not null and under_price is not null as is_two_sided,
        {{ american_odds_to_implied_probability('over_price') }} as over_implied_probability,
        {{ american_odds_to_implied_probability('under_price') }} as under_implied_probability
    from {{ source('odds', 'player_props') }}
    -- every partition: a correction may change a line of any age
    where {{ all_partitions_filter('scraped_at', 'timestamp') }} and {{ not_retracted() }}
),

prop_rows_with_book_median as (
    select
        prop_rows.*,
        {{ book_median_line(stated_ladder) }} as book_median_line_points
    from prop_rows
),

stated_ladders as (
    -- the main line of each snapshot as each payload stated it
    select
        prop_rows_with_book_median.*,
        {{ is_main_line(stated_ladder) }} as is_main_line
    from prop_rows_with_book_median
),

line_versions as (
    select
        event_id,
        player_name,
        bookmaker_key,
        market_key,
        captured_at,
        payload_id,
        scraped_at,
        line_points,
        lag(line_points) over snapshot_history as previous_line_points,
        lag(payload_id) over snapshot_history as previous_payload_id
    from stated_ladders
    where is_main_line
    window snapshot_history as (
        partition by event_id, player_name, bookmaker_key, market_key, captured_at order by scraped_at, payload_id
    )
),

line_keys as (
    -- the resolved player, game date and game of each (event, name)
    select distinct
        resolved.event_id,
        resolved.player_name_raw,
        resolved.player_id,
        resolved.game_date,
        schedule.game_id
    from {{ ref('player_prop_lines_resolved') }} as resolved
    inner join {{ ref('stg_nba__schedule_games') }} as schedule
        on
            resolved.game_date = schedule.game_date
            and resolved.home_team_id = schedule.home_team_id
    where resolved.is_resolved
),

line_changes as (
    select
        line_keys.game_id,
        line_keys.player_id,
        line_versions.player_name,
        line_keys.game_date,
        line_versions.payload_id,
        line_versions.previous_payload_id,
        line_versions.scraped_at,
        'prop_line' as corrected_entity,
        'line_points' as corrected_field,
        line_versions.bookmaker_key,
        line_versions.market_key,
        line_versions.captured_at as line_captured_at,
        cast(line_versions.previous_line_points as {{ type_double() }}) as old_value,
        cast(line_versions.line_points as {{ type_double() }}) as new_value
    from line_versions
    inner join line_keys
        on
            line_versions.event_id = line_keys.event_id
            and line_versions.player_name = line_keys.player_name_raw
    where
        line_versions.previous_payload_id is not null
        and line_versions.line_points is distinct from line_versions.previous_line_points
),

box_score_changes as (
    {%- for field in corrected_fields %}
        select
            game_id,
            player_id,
            player_name,
            game_date,
            payload_id,
            previous_payload_id,
            scraped_at,
            'box_score' as corrected_entity,
            '{{ field }}' as corrected_field,
            cast(null as {{ dbt.type_string() }}) as bookmaker_key,
            cast(null as {{ dbt.type_string() }}) as market_key,
            case when false then scraped_at end as line_captured_at,  -- a null of the landing-time type
            cast(previous_{{ field }} as {{ type_double() }}) as old_value,
            cast({{ field }} as {{ type_double() }}) as new_value
        from versions
        where previous_payload_id is not null and {{ field }} is distinct from previous_{{ field }}
        {%- if not loop.last %}

            union all
        {% endif %}
    {%- endfor %}
),

changes as (
    select * from box_score_changes
    union all
    select * from line_changes
),

final as (
    select
        -- ids
        {{ dbt.hash(dbt.concat([
            "game_id", "'|'", "cast(player_id as " ~ dbt.type_string() ~ ")", "'|'", "corrected_field", "'|'",
            "coalesce(bookmaker_key, '')", "'|'", "coalesce(market_key, '')", "'|'",
            "coalesce(cast(" ~ epoch_microseconds('line_captured_at') ~ " as " ~ dbt.type_string() ~ "), '')", "'|'",
            "payload_id",
        ])) }} as correction_id,
        game_id,
        player_id,
        previous_payload_id as old_payload_id,
        payload_id as new_payload_id,

        -- strings
        corrected_entity,
        corrected_field,
        player_name,
        bookmaker_key,
        market_key,

        -- dates
        game_date,

        -- numerics
        old_value,
        new_value,

        -- timestamps
        line_captured_at,
        scraped_at as corrected_at
    from changes
)

select * from final

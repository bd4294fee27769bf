{{ config(materialized='table') }}

{#- Corrections to landed history (issue #11 point 2): every box-score value (points, minutes) of a
    (game, player) that a later payload changed, old -> new, with the payload that had it and the
    one that changed it. Staging keeps the latest row per key, so these changes flow into grading
    (prediction_accuracy, system_daily_performance) of a finished date: `nba-props run-day` raises a
    `data_correction` alert for each, and the report's data-health page lists them; re-grading a
    date is then an explicit `nba-props grade --date D`. Retracted payloads are left out. -#}

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
        points,
        minutes,
        lag(points) over key_history as previous_points,
        lag(minutes) over key_history as previous_minutes,
        lag(payload_id) over key_history as previous_payload_id
    from game_log_rows
    window key_history as (partition by game_id, player_id order by scraped_at, payload_id, record_index)
),

changes as (
    select
        game_id,
        player_id,
        player_name,
        game_date,
        payload_id,
        previous_payload_id,
        scraped_at,
        'points' as corrected_field,
        cast(previous_points as {{ type_double() }}) as old_value,
        cast(points as {{ type_double() }}) as new_value
    from versions
    where previous_payload_id is not null and points is distinct from previous_points

    union all

    select
        game_id,
        player_id,
        player_name,
        game_date,
        payload_id,
        previous_payload_id,
        scraped_at,
        'minutes' as corrected_field,
        cast(previous_minutes as {{ type_double() }}) as old_value,
        cast(minutes as {{ type_double() }}) as new_value
    from versions
    where previous_payload_id is not null and minutes is distinct from previous_minutes
),

final as (
    select
        -- ids
        {{ dbt.hash(dbt.concat([
            "game_id", "'|'", "cast(player_id as " ~ dbt.type_string() ~ ")", "'|'", "corrected_field", "'|'",
            "payload_id",
        ])) }} as correction_id,
        game_id,
        player_id,
        previous_payload_id as old_payload_id,
        payload_id as new_payload_id,

        -- strings
        'box_score' as corrected_entity,
        corrected_field,
        player_name,

        -- dates
        game_date,

        -- numerics
        old_value,
        new_value,

        -- timestamps
        scraped_at as corrected_at
    from changes
)

select * from final

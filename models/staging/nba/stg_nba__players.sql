{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='player_id',
        on_schema_change='fail',
    )
}}

with

source_rows as (
    select * from {{ source('nba', 'players') }}
    where {{ new_raw_rows_filter() }} and {{ not_retracted() }}
),

ranked_rows as (
    select
        source_rows.*,
        row_number() over (
            partition by source_rows.player_id
            order by
                source_rows.scraped_at desc,
                source_rows.payload_id desc,
                source_rows.record_index desc
        ) as recency_rank
    from source_rows
),

latest_rows as (
    select * from ranked_rows
    where recency_rank = 1
),

final as (
    select
        -- ids
        player_id,
        -- CommonAllPlayers writes team 0 / '' for players without a team: missing, not a team
        nullif(team_id, 0) as team_id,
        payload_id as source_payload_id,

        -- strings
        display_first_last as player_name,
        player_slug,
        nullif(trim(team_abbreviation), '') as team_tricode,

        -- numerics
        from_year,
        to_year,
        roster_status,

        -- timestamps
        scraped_at

    from latest_rows
)

select * from final

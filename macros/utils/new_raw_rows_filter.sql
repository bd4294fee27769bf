-- noqa: disable=LT02
{#- The incremental filter of the staging models: on an incremental run, keep only the raw rows
    landed after the newest row already merged (raw tables are append-only and `scraped_at` is
    the landing wall clock, so this is "new payloads only"). The cost of a run is the size of the
    new batch, not of the history: DuckDB prunes row groups by their min/max zone maps and
    BigQuery by partition/cluster on scraped_at. An empty target (e.g. after `--empty`) takes
    everything. Use inside a `where`. -#}
{% macro new_raw_rows_filter(column_name='scraped_at') -%}
    {#- BigQuery: the raw tables require a filter on their partition column (scraped_at): a
        constant floor (every partition) plus, incrementally, the newer-than-merged bound -#}
    {%- if target.type == 'bigquery' -%}
        {%- set floor = "timestamp '" ~ nba_props.partition_floor() ~ " 00:00:00+00'" -%}
        {%- if is_incremental() -%}
            {{ column_name }} >= {{ floor }}
            and {{ column_name }} > coalesce((select max(already_merged.scraped_at) from {{ this }} as already_merged), {{ floor }})
        {%- else -%}
            {{ column_name }} >= {{ floor }}
        {%- endif -%}
    {%- elif is_incremental() -%}
        {#- one comparison with a scalar (an empty target: every row), so that DuckDB pushes it to
            the raw table's scan and skips the row groups landed before -#}
        {{ column_name }} > coalesce(
            (select max(already_merged.scraped_at) from {{ this }} as already_merged),
            cast('-infinity' as {{ dbt.type_timestamp() }})
        )
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}

{#- Records of retracted payloads (raw.payload_retractions, `nba-props retract`) never reach
    staging. Use inside a `where` on a raw source with a payload_id column. -#}
{% macro not_retracted(payload_id_column='payload_id') -%}
    {{ payload_id_column }} not in (
        select retracted.payload_id from {{ source('ingest', 'payload_retractions') }} as retracted
    )
{%- endmacro %}

{#- The newest source landing time already in this incremental model (a scalar subquery; an empty
    target: 1900-01-01, so every row is new). The analytics models' "changed rows" are the rows of
    their input with a later `source_scraped_at`/`scraped_at`. Use only inside is_incremental(). -#}
{% macro newest_already_built(column_name='source_scraped_at') -%}
    (
        select coalesce(max(already_built.{{ column_name }}), cast('1900-01-01' as {{ dbt.type_timestamp() }}))
        from {{ this }} as already_built
    )
{%- endmacro %}

{#- Two CTEs (inside a `with`, followed by a comma): ``<name>_changed`` = the games of ``relation``
    (a game-level input with game_id, game_date, source_scraped_at) with rows landed since this
    model's last build (newest_already_built), and ``<name>`` = every row of those games, bounded
    below by the earliest of their dates (a game's rows share its date; `game_id in` alone gives
    the scan no range), so the scan of the model itself skips the older row groups. Use only
    inside is_incremental(). -#}
{% macro changed_games_ctes(name, relation) -%}
    {{ name }}_changed as (
        select
            changed_rows.game_id,
            changed_rows.game_date
        from {{ relation }} as changed_rows
        where changed_rows.source_scraped_at > {{ newest_already_built() }}
    ),

    {{ name }} as (
        select * from {{ relation }}
        where
            game_id in (select {{ name }}_changed.game_id from {{ name }}_changed)
            and game_date >= (select min({{ name }}_changed.game_date) from {{ name }}_changed)
    )
{%- endmacro %}

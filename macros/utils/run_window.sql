-- noqa: disable=LT02
{#- THE run window: the game dates a daily (incremental) run may touch. One rule for the MERGE
    target predicates (BigQuery) and the data tests' partition filters (both engines). -#}

{% macro run_window_start() -%}
    {#- First game date (ISO text) of the run's window: var run_date minus var
        incremental_window_days, or var features_rebuild_from when that is earlier (late
        corrections). none = no window (run_date null, or --full-refresh): everything. -#}
    {%- set run_date = run_var('run_date', none) -%}
    {%- if not run_date or flags.FULL_REFRESH -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set start = modules.datetime.date.fromisoformat((run_date | string)[:10])
        - modules.datetime.timedelta(days=var('incremental_window_days') | int) -%}
    {%- set rebuild_from = var('features_rebuild_from', none) -%}
    {%- if rebuild_from -%}
        {%- set rebuild = modules.datetime.date.fromisoformat((rebuild_from | string)[:10]) -%}
        {%- if rebuild < start -%}
            {%- set start = rebuild -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(start.isoformat()) }}
{%- endmacro %}


{% macro partition_floor() -%}
    {#- the constant lower bound that selects every partition (BigQuery's require_partition_filter
        needs a filter on the partition column even when a query wants everything) -#}
    {{ return(var('partition_floor') | string) }}
{%- endmacro %}


{% macro window_filter(column, data_type='date') -%}
    {#- `column >= <window start>` as SQL for a `where`; on BigQuery without a window, the
        all-partitions floor; elsewhere without a window, none (no filter) -#}
    {%- set start = nba_props.run_window_start() -%}
    {%- if start is none and target.type == 'bigquery' -%}
        {%- set start = nba_props.partition_floor() -%}
    {%- endif -%}
    {%- if start is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set sql_type = 'date' if data_type == 'date' else dbt.type_timestamp() -%}
    {{ return(column ~ " >= cast('" ~ start ~ "' as " ~ sql_type ~ ")") }}
{%- endmacro %}


{% macro incremental_window_predicates(column='game_date') -%}
    {#- incremental_predicates of a MERGE (BigQuery): the target scan limited to the run window
        (DBT_INTERNAL_DEST is the target's alias in dbt's MERGE). DuckDB: none (unchanged). A
        correction of a game older than the window needs var features_rebuild_from (or a run
        without run_date); docs: README "Deploy to BigQuery". -#}
    {%- if target.type != 'bigquery' -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(['DBT_INTERNAL_DEST.' ~ nba_props.window_filter(column)]) }}
{%- endmacro %}


{% macro date_replace_strategy() -%}
    {#- models rebuilt per game date (unique_key game_date): DuckDB delete+insert; BigQuery has no
        delete+insert, its equivalent is insert_overwrite of the dates' partitions -#}
    {{ return('insert_overwrite' if target.type == 'bigquery' else 'delete+insert') }}
{%- endmacro %}


{% macro season_partition() -%}
    {#- partition_by of a model rebuilt per season (unique_key season, with an integer
        season_start_year column): on BigQuery one integer-range partition per season start year
        (insert_overwrite replaces the rebuilt seasons' partitions); elsewhere none. Not a date
        partition: no run window applies to it (model_partition_column). -#}
    {%- if target.type != 'bigquery' -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return({'field': 'season_start_year', 'data_type': 'int64',
               'range': {'start': 1946, 'end': 2100, 'interval': 1}}) }}
{%- endmacro %}


{% macro test_window_filter(relation) -%}
    {#- The partition filter of a data test on `relation` (a model or raw source with a partition
        column): `<column> >= <window start>`; none for an unpartitioned relation or no window -#}
    {%- set partition = nba_props.partition_of(relation) -%}
    {%- if partition is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(nba_props.window_filter(partition[0], partition[1])) }}
{%- endmacro %}


{% macro partition_of(relation) -%}
    {#- (partition column, data type) of `relation` (a model or raw source of this project, found
        in the graph by schema and name), none when it has no partition column -#}
    {%- set match = namespace(column=none, data_type='date') -%}
    {%- for node in graph.nodes.values() | list + graph.sources.values() | list
        if match.column is none
        and (node.alias or node.identifier or node.name) | lower == (relation.identifier or '') | lower
        and (node.schema | lower) == (relation.schema or '') | lower -%}
        {%- if node.resource_type == 'source' -%}
            {%- set layout = node.config.meta.get('raw_layout') or {} -%}
            {%- if layout.get('partition_by') -%}
                {%- set match.column = layout['partition_by'] -%}
                {%- set match.data_type = node.columns[match.column].data_type -%}
            {%- endif -%}
        {%- else -%}
            {%- set partition = nba_props.model_partition_column(node) -%}
            {%- if partition is not none -%}
                {%- set match.column = partition[0] -%}
                {%- set match.data_type = partition[1] -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if match.column is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return([match.column, match.data_type]) }}
{%- endmacro %}


{% macro model_partition_column(node) -%}
    {#- THE date column of a model's table, (column, data type) or none: BigQuery partitions by
        it (config partition_by), DuckDB writes the table in its order (physical_order_column)
        so that a filter on it skips row groups. A config partition_by wins; elsewhere than on
        BigQuery, config physical_order, else game_date when the model documents it. -#}
    {%- set partition_by = node.config.get('partition_by') -%}
    {%- if partition_by and partition_by.get('range') -%}
        {#- an integer-range partition (season_partition) is no date window -#}
        {{ return(none) }}
    {%- endif -%}
    {%- if partition_by -%}
        {{ return([partition_by.field, partition_by.get('data_type', 'date')]) }}
    {%- endif -%}
    {%- if target.type == 'bigquery' or node.resource_type not in ('model', 'snapshot') -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set configured = node.config.get('physical_order', 'default') -%}
    {%- if configured != 'default' -%}
        {{ return([configured, 'date'] if configured else none) }}
    {%- endif -%}
    {{ return(['game_date', 'date'] if 'game_date' in (node.columns or {}) else none) }}
{%- endmacro %}


{% macro default__get_where_subquery(relation) -%}
    {#- dbt's generic-test `where` (overridden for every test of this project): the test's own
        `where` config AND the run window on the tested relation's partition column -#}
    {%- set conditions = [] -%}
    {%- if config.get('where') -%}
        {%- do conditions.append('(' ~ config.get('where') ~ ')') -%}
    {%- endif -%}
    {%- set window = nba_props.test_window_filter(relation) if execute else none -%}
    {%- if window -%}
        {%- do conditions.append(window) -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ conditions | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}


{% macro in_run_window(relation) -%}
    {#- for singular tests: `relation` filtered like a generic test's model (the run window on its
        partition column), e.g. select * from {{ in_run_window(ref('ml_feature_store')) }} -#}
    {%- set window = test_window_filter(relation) if (execute and graph is defined) else none -%}
    {%- if window -%}
        {{ return('(select * from ' ~ relation ~ ' where ' ~ window ~ ') dbt_subquery') }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}


{% macro contract_enforced() -%}
    {#- Model contracts are enforced everywhere except against a BigQuery emulator (a `prod`
        target with NBA_PROPS_BQ_API_ENDPOINT set): bqemulator cannot run BigQuery's
        `create table t (typed columns) as select`. Real BigQuery and DuckDB enforce them. -#}
    {{ return(not (target.type == 'bigquery' and env_var('NBA_PROPS_BQ_API_ENDPOINT', '') != '')) }}
{%- endmacro %}


{% macro all_partitions_filter(column, data_type='date') -%}
    {#- A `where` condition that reads every partition of `column`'s table: on BigQuery the
        partition floor (require_partition_filter needs a filter even when a query wants all);
        elsewhere `1 = 1`. For reads that need all history by design. -#}
    {%- if target.type != 'bigquery' -%}
        {{ return('1 = 1') }}
    {%- endif -%}
    {%- set sql_type = 'date' if data_type == 'date' else dbt.type_timestamp() -%}
    {{ return(column ~ " >= cast('" ~ nba_props.partition_floor() ~ "' as " ~ sql_type ~ ")") }}
{%- endmacro %}


{% macro build_window_filter(column, data_type='date') -%}
    {#- A `where` condition for a model rebuilt per game date (unique_key game_date): on an
        incremental run the run window (every partition without run_date), on a first build or
        --full-refresh every partition. -#}
    {%- set window = nba_props.window_filter(column, data_type) if is_incremental() else none -%}
    {{ return(window or nba_props.all_partitions_filter(column, data_type)) }}
{%- endmacro %}

-- noqa: disable=LT02
{#- Physical layout on DuckDB (docs/performance.md "Rows scanned by one daily run"): every table
    a model writes (a full build, and the temporary table an incremental run inserts from) is
    written in the order of its date column, so DuckDB's per-row-group min/max zone maps on that
    column are narrow and a date-window read (the run window, a season's games) skips the row
    groups of older history. BigQuery partitions by the same column instead (partition_by). -#}

{% macro physical_order_column() -%}
    {#- The column the current model's DuckDB table is written in order of: its partition column
        (model_partition_column: config physical_order, else a documented game_date), or none. -#}
    {%- if model is not defined or model.get('resource_type') not in ('model', 'snapshot') -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set partition = nba_props.model_partition_column(model) -%}
    {{ return(partition[0] if partition is not none else none) }}
{%- endmacro %}


{% macro duckdb__create_table_as(
    temporary, relation, compiled_code, language='sql', partitioned_by=none, sorted_by=none
) -%}
    {#- dbt-duckdb's create_table_as with the model's query ordered by physical_order_column() -#}
    {%- set order_column = nba_props.physical_order_column() if language == 'sql' else none -%}
    {%- if order_column -%}
        {%- set compiled_code = 'select * from (\n' ~ compiled_code
            ~ '\n) as physically_ordered\norder by ' ~ order_column -%}
    {%- endif -%}
    {{ return(dbt.duckdb__create_table_as(temporary, relation, compiled_code, language, partitioned_by, sorted_by)) }}
{%- endmacro %}

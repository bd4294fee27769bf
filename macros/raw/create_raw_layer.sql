-- noqa: disable=LT02
{#- The raw layer (the tables the Python jobs land into and dbt reads as sources) is defined ONCE:
    the source YAML (schema `raw`) lists every column with a neutral `data_type` (string, integer,
    bigint, double, date, timestamp, bytes, boolean), its `constraints` (not_null, primary_key) and,
    in `config.meta.raw_layout`, the table's BigQuery layout (partition column, clustering,
    require_partition_filter). These macros render that definition per engine and create what is
    missing. Called from on-run-start (so plain `dbt build` in a fresh clone works) and by
    `dbt run-operation create_raw_layer`; python_jobs.warehouse.schema.ensure_raw_schema runs the
    run-operation. Cheap when the layer exists: one listing query per raw schema, no DDL. -#}

{% macro raw_layer_tables() -%}
    {#- every source table of the raw schema (graph nodes), in a stable order -#}
    {%- set tables = [] -%}
    {%- for node in graph.sources.values() if node.schema == 'raw' -%}
        {%- do tables.append(node) -%}
    {%- endfor -%}
    {{ return(tables | sort(attribute='identifier')) }}
{%- endmacro %}


{% macro create_raw_layer() -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set tables = nba_props.raw_layer_tables() -%}
    {%- set created = [] -%}
    {%- for schema in tables | map(attribute='schema') | unique | list -%}
        {%- set in_schema = tables | selectattr('schema', 'equalto', schema) | list -%}
        {%- set schema_relation = api.Relation.create(database=in_schema[0].database, schema=schema) -%}
        {%- set existing = nba_props.raw_existing_tables(schema_relation) -%}
        {%- set missing = [] -%}
        {%- for node in in_schema if node.identifier | lower not in existing -%}
            {%- do missing.append(node) -%}
        {%- endfor -%}
        {%- if missing -%}
            {%- do adapter.create_schema(schema_relation) -%}
            {%- for node in missing -%}
                {%- set relation = api.Relation.create(
                    database=node.database, schema=node.schema, identifier=node.identifier, type='table'
                ) -%}
                {%- call statement('create_raw_' ~ node.identifier, fetch_result=False, auto_begin=True) -%}
                    {{ nba_props.raw_table_ddl(relation, node) }}
                {%- endcall -%}
                {%- do created.append(schema ~ '.' ~ node.identifier) -%}
            {%- endfor -%}
            {%- if adapter.type() != 'bigquery' -%}
                {%- do adapter.commit() -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if created -%}
        {{ log("nba_props: created raw tables " ~ (created | join(', ')), info=true) }}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}


{% macro raw_existing_tables(schema_relation) -%}
    {#- lower-cased names of the tables in a schema (empty when the schema does not exist): one query -#}
    {{ return(adapter.dispatch('raw_existing_tables', 'nba_props')(schema_relation)) }}
{%- endmacro %}


{% macro default__raw_existing_tables(schema_relation) -%}
    {%- set query -%}
        select lower(table_name) as table_name from information_schema.tables
        where lower(table_catalog) = lower('{{ schema_relation.database }}')
            and lower(table_schema) = lower('{{ schema_relation.schema }}')
    {%- endset -%}
    {{ return(run_query(query).columns[0].values() | list) }}
{%- endmacro %}


{% macro bigquery__raw_existing_tables(schema_relation) -%}
    {#- one tables.list API call; a missing dataset lists nothing -#}
    {%- set names = [] -%}
    {%- for relation in adapter.list_relations_without_caching(schema_relation) -%}
        {%- do names.append(relation.identifier | lower) -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}


{% macro raw_table_ddl(relation, node) -%}
    {{ return(adapter.dispatch('raw_table_ddl', 'nba_props')(relation, node)) }}
{%- endmacro %}


{% macro raw_column_type(neutral_type) -%}
    {{ return(adapter.dispatch('raw_column_type', 'nba_props')(neutral_type)) }}
{%- endmacro %}


{% macro raw_column_has(column, constraint_type) -%}
    {#- true when the column declares a constraint of that type (not_null, primary_key) -#}
    {{ return(column.constraints | selectattr('type', 'equalto', constraint_type) | list | length > 0) }}
{%- endmacro %}


{% macro raw_type_error(neutral_type) -%}
    {{ exceptions.raise_compiler_error(
        "raw layer: unknown data_type '" ~ neutral_type ~ "' (use string, integer, bigint, double, date, timestamp, bytes, boolean)"
    ) }}
{%- endmacro %}


{% macro default__raw_column_type(neutral_type) -%}
    {%- set types = {
        'string': 'varchar', 'integer': 'integer', 'bigint': 'bigint', 'double': 'double',
        'date': 'date', 'timestamp': 'timestamptz', 'bytes': 'blob', 'boolean': 'boolean'
    } -%}
    {%- if neutral_type not in types -%}{{ nba_props.raw_type_error(neutral_type) }}{%- endif -%}
    {{ return(types[neutral_type]) }}
{%- endmacro %}


{% macro bigquery__raw_column_type(neutral_type) -%}
    {%- set types = {
        'string': 'STRING', 'integer': 'INT64', 'bigint': 'INT64', 'double': 'FLOAT64',
        'date': 'DATE', 'timestamp': 'TIMESTAMP', 'bytes': 'BYTES', 'boolean': 'BOOL'
    } -%}
    {%- if neutral_type not in types -%}{{ nba_props.raw_type_error(neutral_type) }}{%- endif -%}
    {{ return(types[neutral_type]) }}
{%- endmacro %}


{% macro default__raw_table_ddl(relation, node) -%}
    {#- DuckDB (and default): not null and primary key enforced; no physical layout -#}
    {%- set columns = [] -%}
    {%- for column in node.columns.values() -%}
        {%- do columns.append(
            adapter.quote(column.name) ~ ' ' ~ nba_props.raw_column_type(column.data_type)
            ~ (' not null' if nba_props.raw_column_has(column, 'not_null') else '')
            ~ (' primary key' if nba_props.raw_column_has(column, 'primary_key') else '')
        ) -%}
    {%- endfor -%}
    {{ return('create table if not exists ' ~ relation ~ ' (' ~ (columns | join(', ')) ~ ')') }}
{%- endmacro %}


{% macro bigquery__raw_table_ddl(relation, node) -%}
    {#- BigQuery: columns NULLABLE (nullability is enforced at the edge and by the source tests, so
        load jobs never fail on a REQUIRED-mode mismatch; primary keys are not enforced by BigQuery);
        partitioned by day on meta.raw_layout.partition_by, clustered, require_partition_filter -#}
    {%- set layout = node.config.meta.get('raw_layout') or node.meta.get('raw_layout') or {} -%}
    {%- set columns = [] -%}
    {%- set types = {} -%}
    {%- for column in node.columns.values() -%}
        {%- do types.update({column.name: column.data_type}) -%}
        {%- do columns.append(adapter.quote(column.name) ~ ' ' ~ nba_props.raw_column_type(column.data_type)) -%}
    {%- endfor -%}
    {%- set ddl = ['create table if not exists ' ~ relation ~ ' (' ~ (columns | join(', ')) ~ ')'] -%}
    {%- if layout.get('partition_by') -%}
        {%- set column = layout['partition_by'] -%}
        {%- if column not in types -%}
            {{ exceptions.raise_compiler_error(
                "raw layer: " ~ node.identifier ~ " partitions on unknown column " ~ column
            ) }}
        {%- endif -%}
        {%- do ddl.append('partition by ' ~ ('date(' ~ column ~ ')' if types[column] == 'timestamp' else column)) -%}
    {%- endif -%}
    {%- if layout.get('cluster_by') -%}
        {%- do ddl.append('cluster by ' ~ (layout['cluster_by'] | join(', '))) -%}
    {%- endif -%}
    {%- if layout.get('require_partition_filter') -%}
        {%- do ddl.append('options (require_partition_filter = true)') -%}
    {%- endif -%}
    {{ return(ddl | join('\n')) }}
{%- endmacro %}


{% macro add_missing_raw_columns() -%}
    {#- Upgrade path for a warehouse created by an older release: every column of the source YAML
        that an existing raw table lacks is added (nullable: old rows have no value). Opt-in, run by
        `nba-props dbt run-operation add_missing_raw_columns` after an upgrade; on-run-start stays
        cheap (it only creates missing tables). One column listing per existing table. -#}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set added = [] -%}
    {%- for node in nba_props.raw_layer_tables() -%}
        {%- set relation = adapter.get_relation(
            database=node.database, schema=node.schema, identifier=node.identifier
        ) -%}
        {%- if relation is not none -%}
            {%- set existing = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
            {%- for column in node.columns.values() if column.name | lower not in existing -%}
                {%- call statement('add_raw_column', fetch_result=False, auto_begin=True) -%}
                    alter table {{ relation }} add column {{ adapter.quote(column.name) }} {{ nba_props.raw_column_type(column.data_type) }}
                {%- endcall -%}
                {%- do added.append(node.identifier ~ '.' ~ column.name) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if added and adapter.type() != 'bigquery' -%}
        {%- do adapter.commit() -%}
    {%- endif -%}
    {{ log("nba_props: added raw columns: " ~ (added | join(', ') if added else 'none'), info=true) }}
    {{ return('') }}
{%- endmacro %}

{% macro log_run_results(results) %}
    {#- on-run-end: one raw.pipeline_execution_log row per dbt node of this invocation, inserted and
        committed by the macro itself (the hook SQL it returns is empty). The table is created by the Python side
        (from the source YAML by macros/raw/create_raw_layer.sql, on-run-start); if it does not exist yet nothing is logged and dbt says so. -#}
    {%- if not execute or results | length == 0 -%}
        {{ return('') }}
    {%- endif -%}
    {%- set log_relation = adapter.get_relation(
        database=target.database, schema='raw', identifier='pipeline_execution_log'
    ) -%}
    {%- if log_relation is none -%}
        {{ log(
            "nba_props: raw.pipeline_execution_log does not exist; dbt results not logged"
            ~ " (any nba-props Python job creates it)", info=true
        ) }}
        {{ return('') }}
    {%- endif -%}
    {%- set run_id = run_var('pipeline_run_id', none) or invocation_id -%}
    {%- set correlation_id = run_var('correlation_id', 'manual') -%}
    {%- set flow = run_var('pipeline_flow', none) or 'dbt' -%}
    {%- set run_date = run_var('run_date', none) -%}
    {%- set phase_tags = ['phase2', 'phase3', 'phase4', 'phase5', 'phase6', 'monitoring'] -%}
    {%- set rows = [] -%}
    {%- for res in results -%}
        {%- set node = res.node -%}
        {%- set phase = namespace(value=none) -%}
        {#- a test takes the phase of the model it tests (generic tests do not inherit folder tags) -#}
        {%- set is_attached_test = node.resource_type == 'test' and node.attached_node -%}
        {%- set attached = graph.nodes.get(node.attached_node) if is_attached_test else none -%}
        {%- set tags = node.tags + (attached.tags if attached else []) -%}
        {%- for tag in tags if phase.value is none and tag in phase_tags -%}
            {%- set phase.value = tag -%}
        {%- endfor -%}
        {%- set is_source_test = node.resource_type == 'test' and (node.sources | length) > 0 -%}
        {%- set is_gate = node.resource_type == 'source' or is_source_test -%}
        {%- set phase_name = phase.value or ('gate' if is_gate else none)
            or run_var('pipeline_phase', none) or 'dbt' -%}
        {%- set starts = res.timing | map(attribute='started_at') | reject('none') | list -%}
        {%- set ends = res.timing | map(attribute='completed_at') | reject('none') | list -%}
        {%- set status = (res.status | string | lower) -%}
        {%- set rows_out = none -%}
        {%- if node.resource_type == 'test' -%}
            {%- set rows_out = res.failures -%}
        {%- elif res.adapter_response is mapping and res.adapter_response.get('rows_affected') is number and res.adapter_response.get('rows_affected') >= 0 -%}
            {%- set rows_out = res.adapter_response.get('rows_affected') -%}
        {%- endif -%}
        {%- set is_error = status in ['error', 'fail', 'runtime error'] -%}
        {%- set message = (res.message | string)[:4000] if (is_error or status == 'warn') and res.message else none -%}
        {%- do rows.append("(" ~ [
            ops_sql_string(run_id ~ ':' ~ invocation_id ~ ':' ~ node.unique_id),
            ops_sql_string(run_id),
            ops_sql_string(correlation_id),
            ops_sql_string(flow),
            ops_sql_string(run_date) if run_date else 'null',
            ops_sql_string(phase_name),
            ops_sql_string(node.unique_id),
            ops_sql_string(node.resource_type),
            ops_sql_string((starts | min).isoformat() ~ '+00:00') if starts else 'null',
            ops_sql_string((ends | max).isoformat() ~ '+00:00') if ends else 'null',
            'null',
            (rows_out | string) if rows_out is not none else 'null',
            ops_sql_string(status),
            ops_sql_string('dbt_' ~ node.resource_type ~ '_' ~ status) if is_error else 'null',
            ops_sql_string(message) if message else 'null',
            'current_timestamp'
        ] | join(', ') ~ ")") -%}
    {%- endfor -%}
    {#- run and commit here: dbt may run the hook SQL inside a transaction it then rolls back -#}
    {%- call statement('ops_log_run_results', fetch_result=False, auto_begin=True) -%}
        insert into {{ log_relation }} (log_id, run_id, correlation_id, flow, game_date, phase, node, node_type, started_at, finished_at, rows_in, rows_out, status, error_class, error_message, logged_at) values {{ rows | join(', ') }}
    {%- endcall -%}
    {%- do adapter.commit() -%}
    {{ return('') }}
{% endmacro %}


{% macro ops_sql_string(value) %}
    {#- a single-quoted SQL string literal (quotes doubled) -#}
    {{ return("'" ~ (value | string | replace("'", "''")) ~ "'") }}
{% endmacro %}

{% macro run_var(name, default=none) -%}
    {#- A per-run value (run_date, correlation_id, pipeline_run_id, ...): the JSON object in the
        environment variable NBA_PROPS_DBT_RUN_VARS when it has `name` (python_jobs.dbt_runner
        puts the run values there), else var(name, default). Read only while executing: parsing
        never sees it, so dbt's saved parse (partial_parse.msgpack) stays valid from one run to the
        next, where a changed --vars makes dbt re-parse the whole project. -#}
    {%- if execute -%}
        {%- set run_vars = fromjson(env_var('NBA_PROPS_DBT_RUN_VARS', '{}')) or {} -%}
        {%- if name in run_vars -%}
            {{ return(run_vars[name]) }}
        {%- endif -%}
    {%- endif -%}
    {{ return(var(name, default)) }}
{%- endmacro %}

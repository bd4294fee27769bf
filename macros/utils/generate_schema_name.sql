{#- Use the folder's custom schema name as is (staging, analytics, ...) instead of
    prefixing it with the target schema: the same names on DuckDB and BigQuery. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}

{#- Player-name normalisation for prop-line name resolution (docs/features.md).
    'Nikola Jokić' -> 'nikola jokic', 'P.J. Washington' / 'PJ Washington' / 'P. J. Washington'
    -> 'pj washington', 'Jaren Jackson Jr.' -> 'jaren jackson', 'Dorian Finney-Smith' ->
    'dorian finney smith': accents stripped, lower case, hyphens to spaces, other punctuation
    dropped, a trailing Jr/Sr/II/III/IV dropped, leading single-letter initials joined, spaces
    collapsed. The same expression runs on both sides (prop names and nba.com names). -#}
{% macro normalize_player_name(expression) -%}
    {%- set s1 = "lower(" ~ strip_accents(expression) ~ ")" -%}
    {%- set s2 = regexp_replace_all(s1, "'[-_/]'", "' '") -%}
    {%- set s3 = regexp_replace_all(s2, "'[^a-z0-9 ]'", "''") -%}
    {%- set s4 = "trim(" ~ regexp_replace_all(s3, "'[ ]+'", "' '") ~ ")" -%}
    {%- set s5 = regexp_replace_all(s4, "' (jr|sr|ii|iii|iv)$'", "''") -%}
    {%- set s6 = regexp_replace_all(s5, "'^([a-z]) ([a-z]) '", "'\\1\\2 '") -%}
    trim({{ s6 }})
{%- endmacro %}

{#- Remove diacritics: DuckDB has strip_accents; BigQuery decomposes (NFD) and drops the marks. -#}
{% macro strip_accents(expression) -%}
    {{ return(adapter.dispatch('strip_accents', 'nba_props')(expression)) }}
{%- endmacro %}

{% macro default__strip_accents(expression) -%}
    strip_accents({{ expression }})
{%- endmacro %}

{% macro bigquery__strip_accents(expression) -%}
    regexp_replace(normalize({{ expression }}, nfd), r'\pM', '')
{%- endmacro %}

{#- Replace every match of a regular expression (DuckDB needs the 'g' flag; BigQuery replaces
    all matches by default). `pattern` and `replacement` are SQL string literals. -#}
{% macro regexp_replace_all(expression, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_all', 'nba_props')(expression, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, {{ pattern }}, {{ replacement }}, 'g')
{%- endmacro %}

{% macro bigquery__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, {{ pattern }}, {{ replacement }})
{%- endmacro %}

{#- Comma-join the non-null string expressions of a list (null entries are skipped). -#}
{% macro join_non_null(expressions, separator="','") -%}
    {{ return(adapter.dispatch('join_non_null', 'nba_props')(expressions, separator)) }}
{%- endmacro %}

{% macro default__join_non_null(expressions, separator) -%}
    concat_ws({{ separator }}, {{ expressions | join(', ') }})
{%- endmacro %}

{% macro bigquery__join_non_null(expressions, separator) -%}
    {#- nulls dropped explicitly: '' (not null) when every element is null, on BigQuery and the emulator -#}
    array_to_string(array(
        select joined_element from unnest([{{ expressions | join(', ') }}]) as joined_element
        where joined_element is not null
    ), {{ separator }})
{%- endmacro %}

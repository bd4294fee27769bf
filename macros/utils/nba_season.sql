{#- The stats.nba.com season-type digit ('1' .. '6') as the staging season_type label. The
    digit is the first character of SEASON_ID ('22024') and the third of a game id
    ('0022400110'). Unknown digits give null (an accepted_values test then fails loudly). -#}
{% macro season_type_from_digit(digit_expression) -%}
    case {{ digit_expression }}
        when '1' then 'preseason'
        when '2' then 'regular_season'
        when '3' then 'all_star'
        when '4' then 'playoffs'
        when '5' then 'play_in'
        when '6' then 'nba_cup_final'
    end
{%- endmacro %}

{% macro season_type_from_season_id(season_id_expression) -%}
    {{ season_type_from_digit("substr(" ~ season_id_expression ~ ", 1, 1)") }}
{%- endmacro %}

{% macro season_type_from_game_id(game_id_expression) -%}
    {{ season_type_from_digit("substr(" ~ game_id_expression ~ ", 3, 1)") }}
{%- endmacro %}

{#- '22024' -> '2024-25': the last four characters are the season's start year. -#}
{% macro season_label_from_season_id(season_id_expression) -%}
    {{ season_label_from_start_year("cast(substr(" ~ season_id_expression ~ ", 2, 4) as " ~ dbt.type_int() ~ ")") }}
{%- endmacro %}

{#- 2024 -> '2024-25' (start year, dash, last two digits of the next year). -#}
{% macro season_label_from_start_year(start_year_expression) -%}
    {{ dbt.concat([
        "cast(" ~ start_year_expression ~ " as " ~ dbt.type_string() ~ ")",
        "'-'",
        "substr(cast(" ~ start_year_expression ~ " + 101 as " ~ dbt.type_string() ~ "), 3, 2)",
    ]) }}
{%- endmacro %}

{#- '0022400110' -> '2024-25': characters 4-5 of a game id are the start year's last two digits. -#}
{% macro season_label_from_game_id(game_id_expression) -%}
    {%- set start_year = "2000 + cast(substr(" ~ game_id_expression ~ ", 4, 2) as " ~ dbt.type_int() ~ ")" -%}
    {{ season_label_from_start_year(start_year) }}
{%- endmacro %}

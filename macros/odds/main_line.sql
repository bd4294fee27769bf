{#- The main-line rule, written once (docs: stg_odds__player_prop_lines_main_line). A book's ladder
    for one player and snapshot holds several lines; its main line is the two-sided line with the
    closest over/under implied probabilities; ties go to the line nearest the median of the
    book's lines, then to the lower line. `partition_by` is the list of columns that identify one
    ladder. The input relation needs is_two_sided, over_implied_probability,
    under_implied_probability and line_points; book_median_line(partition_by) must be selected as
    book_median_line_points in an earlier CTE (a window cannot nest in another window's ORDER BY). -#}
{% macro book_median_line(partition_by) -%}
    {{ median_over('line_points', partition_by) }}
{%- endmacro %}

{% macro is_main_line(partition_by) -%}
    coalesce(
        is_two_sided
        and row_number() over (
            partition by {{ partition_by | join(', ') }}
            order by
                case when is_two_sided then 0 else 1 end,
                abs(over_implied_probability - under_implied_probability),
                abs(line_points - book_median_line_points),
                line_points
        ) = 1,
        false
    )
{%- endmacro %}

{#- Prediction coverage vs the SLO (var coverage_slo, 0.95): per game date and system, the share of
    players with a consensus line that got a prediction against a line. Evaluated for the dates that
    have predictions and for var run_date (so a run that scored nothing fails its SLO). -#}
{%- set consensus = ops_relation('analytics', 'player_consensus_lines') -%}
{%- set predictions = ops_relation('predictions', 'player_prop_predictions') -%}

with

{% if consensus is not none and predictions is not none -%}
    consensus_lines as (
        select * from {{ consensus }}
    ),

    predictions as (
        select * from {{ predictions }}
        -- every partition: coverage is evaluated for every date with predictions
        where {{ all_partitions_filter('game_date') }}
    ),

    {{ coverage_lined_players('consensus_lines', 'predictions') }},

    systems as (
        -- every system seen in the predictions; with no prediction at all, one placeholder so an
        -- evaluated date with lines still gets a row (0 predicted) and fails its SLO
        select distinct system_id from predictions
        union distinct
        select '(no system)' as system_id
        where not exists (select 1 from predictions)
    ),

    predicted as (
        select distinct
            system_id,
            player_id,
            game_date
        from predictions
        where line_source <> 'none'
    ),

    per_system as (
        select
            lined_players.game_date,
            systems.system_id,
            count(*) as n_players_with_line,
            count(predicted.player_id) as n_players_predicted
        from lined_players
        cross join systems
        left join predicted
            on
                lined_players.game_date = predicted.game_date
                and lined_players.player_id = predicted.player_id
                and systems.system_id = predicted.system_id
        group by lined_players.game_date, systems.system_id
    ),
{%- else -%}
    per_system as (
        select
            cast(null as date) as game_date,
            cast(null as {{ dbt.type_string() }}) as system_id,
            0 as n_players_with_line,
            0 as n_players_predicted
        where false
    ),
{%- endif %}

final as (
    select
        -- ids
        {{ dbt.hash(dbt.concat(["cast(game_date as " ~ dbt.type_string() ~ ")", "'|'", "system_id"])) }} as coverage_id,
        system_id,
        -- dates
        game_date,
        -- numerics
        cast(n_players_with_line as {{ dbt.type_bigint() }}) as n_players_with_line,
        cast(n_players_predicted as {{ dbt.type_bigint() }}) as n_players_predicted,
        cast(n_players_predicted as {{ dbt.type_float() }}) / nullif(n_players_with_line, 0) as coverage_rate,
        {{ run_var('coverage_slo', 0.95) }} as coverage_slo,
        -- flags
        coalesce(cast(n_players_predicted as {{ dbt.type_float() }}) / nullif(n_players_with_line, 0), 0)
        >= {{ run_var('coverage_slo', 0.95) }} as meets_slo
    from per_system
)

select * from final

{{ config(materialized='table') }}
-- Per game date: players with a consensus line vs players predicted against that line. A player
-- counts as predicted when EVERY system that scored the date has a consensus_main prediction for
-- him (coverage is as good as the weakest system). Dates: those with predictions, plus var
-- run_date (so a run that scored nothing still gets a row and fails its SLO). SLO: var coverage_slo.
{%- set run_date = run_var('run_date', none) %}
with

consensus_lines as (
    select * from {{ ref('player_consensus_lines') }}
),

predictions as (
    select * from {{ ref('player_prop_predictions') }}
    -- every partition: the grading tables are rebuilt over all predictions
    where {{ all_partitions_filter('game_date') }}
),

rejects as (
    select * from {{ ref('stg_ml__prediction_rejects') }}
),

{{ coverage_lined_players('consensus_lines', 'predictions') }},

systems_per_date as (
    select
        game_date,
        count(distinct system_id) as n_systems
    from predictions
    group by game_date
),

predicted_against_line as (
    select
        game_date,
        player_id,
        count(distinct system_id) as n_systems_predicted
    from predictions
    where line_source = 'consensus_main'
    group by game_date, player_id
),

rejected_players as (
    select distinct
        game_date,
        player_id
    from rejects
),

per_player as (
    select
        lined_players.game_date,
        lined_players.player_id,
        coalesce(predicted_against_line.n_systems_predicted, 0) as n_systems_predicted,
        coalesce(systems_per_date.n_systems, 0) as n_systems,
        rejected_players.player_id is not null as is_rejected
    from lined_players
    left join predicted_against_line
        on
            lined_players.game_date = predicted_against_line.game_date
            and lined_players.player_id = predicted_against_line.player_id
    left join systems_per_date
        on lined_players.game_date = systems_per_date.game_date
    left join rejected_players
        on
            lined_players.game_date = rejected_players.game_date
            and lined_players.player_id = rejected_players.player_id
),

per_date as (
    select
        evaluated_dates.game_date,
        max(coalesce(systems_per_date.n_systems, 0)) as n_systems,
        count(per_player.player_id) as n_players_with_line,
        count(
            case when per_player.n_systems > 0 and per_player.n_systems_predicted = per_player.n_systems then 1 end
        ) as n_players_predicted,
        count(case when per_player.n_systems_predicted > 0 then 1 end) as n_players_predicted_any_system,
        count(case when per_player.is_rejected then 1 end) as n_players_rejected
    from evaluated_dates
    left join per_player
        on evaluated_dates.game_date = per_player.game_date
    left join systems_per_date
        on evaluated_dates.game_date = systems_per_date.game_date
    group by evaluated_dates.game_date
),

final as (
    select
        -- ids
        game_date,
        -- counts
        n_systems,
        n_players_with_line,
        n_players_predicted,
        n_players_predicted_any_system,
        n_players_rejected,
        -- numerics
        cast(n_players_predicted as double) / nullif(n_players_with_line, 0) as coverage_rate,
        cast({{ run_var('coverage_slo', 0.95) }} as double) as coverage_slo,
        -- flags
        n_players_with_line = 0
        or cast(n_players_predicted as double) / n_players_with_line >= {{ run_var('coverage_slo', 0.95) }}
            as meets_slo,
        {% if run_date %}game_date = cast('{{ run_date }}' as date){% else %}false{% endif %} as is_run_date
    from per_date
)

select * from final

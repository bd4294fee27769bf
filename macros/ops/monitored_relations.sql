{% macro ops_monitored_relations() %}
    {#- Natural keys checked daily for duplicates (schema, table, key columns). Relations are looked
        up by name at run time, not ref()'d: monitoring must build (and report a relation as
        missing) even when an upstream phase has not been built in this warehouse. -#}
    {{ return([
        {'schema': 'raw', 'table': 'scrape_runs', 'key': ['scrape_run_id']},
        {'schema': 'raw', 'table': 'landed_payloads', 'key': ['payload_id']},
        {'schema': 'raw', 'table': 'nba_player_game_logs', 'key': ['payload_id', 'record_index']},
        {'schema': 'raw', 'table': 'nba_schedule_games', 'key': ['payload_id', 'record_index']},
        {'schema': 'raw', 'table': 'nba_players', 'key': ['payload_id', 'record_index']},
        {'schema': 'raw', 'table': 'odds_player_props', 'key': ['payload_id', 'record_index']},
        {'schema': 'raw', 'table': 'prediction_scores', 'key': ['prediction_run_id', 'system_id', 'player_id', 'game_date', 'line_source']},
        {'schema': 'raw', 'table': 'pipeline_execution_log', 'key': ['log_id']},
        {'schema': 'raw', 'table': 'pipeline_runs', 'key': ['run_id']},
        {'schema': 'raw', 'table': 'alerts', 'key': ['alert_id']},
        {'schema': 'staging', 'table': 'stg_nba__player_game_logs', 'key': ['game_id', 'player_id']},
        {'schema': 'staging', 'table': 'stg_nba__schedule_games', 'key': ['game_id']},
        {'schema': 'staging', 'table': 'stg_nba__players', 'key': ['player_id']},
        {'schema': 'staging', 'table': 'stg_odds__player_prop_lines', 'key': ['prop_line_id']},
        {'schema': 'analytics', 'table': 'player_game_summary', 'key': ['game_id', 'player_id']},
        {'schema': 'analytics', 'table': 'team_offense_game_summary', 'key': ['game_id', 'team_id']},
        {'schema': 'analytics', 'table': 'team_defense_game_summary', 'key': ['game_id', 'team_id']},
        {'schema': 'analytics', 'table': 'player_consensus_lines', 'key': ['player_id', 'game_date']},
        {'schema': 'precompute', 'table': 'ml_feature_store', 'key': ['player_id', 'game_date']},
        {'schema': 'predictions', 'table': 'player_prop_predictions', 'key': ['system_id', 'player_id', 'game_date', 'line_source']},
        {'schema': 'grading', 'table': 'prediction_accuracy', 'key': ['prediction_id']},
        {'schema': 'grading', 'table': 'system_daily_performance', 'key': ['system_id', 'game_date']},
        {'schema': 'grading', 'table': 'prediction_coverage', 'key': ['game_date']},
    ]) }}
{% endmacro %}


{% macro ops_relation(schema, table) %}
    {#- the relation if it exists in the target, else none (only at execution time) -#}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(adapter.get_relation(database=target.database, schema=schema, identifier=table)) }}
{% endmacro %}

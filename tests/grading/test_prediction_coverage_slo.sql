-- The coverage SLO of the run's date (var run_date): players with a consensus line that were not
-- predicted against it by every system. Returns the date's counts when the SLO is missed; checks
-- nothing when run_date is not set (history has no SLO to meet).
{{ config(tags=['phase6']) }}
select
    game_date,
    n_players_with_line,
    n_players_predicted,
    n_players_rejected,
    coverage_rate,
    coverage_slo
from {{ in_run_window(ref('prediction_coverage')) }}
where is_run_date and not meets_slo

-- Phase 5 -> 6 validation: graded rows (graded + void) = predictions of finished games, per system
-- and date. A mismatch fails the build and returns both counts (see prediction_grading_reconciliation).
{{ config(tags=['phase6']) }}
select
    system_id,
    game_date,
    n_predictions_of_finished_games,
    n_graded_rows,
    n_distinct_graded_predictions
from {{ in_run_window(ref('prediction_grading_reconciliation')) }}
where not is_reconciled

"""Raw tables written by the ML jobs (Phase 5 scoring, training registry). Owned by the ML area."""

from __future__ import annotations

RAW_TABLES: dict[str, str] = {
    # one row per (system, player, game date, line source) per scoring run; dbt merges the latest
    # into predictions.player_prop_predictions
    "prediction_scores": """
        prediction_run_id varchar not null,
        correlation_id varchar not null,
        system_id varchar not null,
        model_version varchar not null,
        player_id bigint not null,
        game_date date not null,
        game_id varchar,
        line_source varchar not null,          -- 'consensus_main' | 'none' (never null)
        line_points double,                    -- null when no line (recommendation NO_LINE)
        line_bookmakers varchar,               -- comma-separated books the consensus came from
        over_price integer,
        under_price integer,
        predicted_points double not null,
        prediction_std double,
        edge double,                           -- predicted_points - line_points
        confidence double not null,
        recommendation varchar not null,       -- OVER | UNDER | PASS | NO_LINE
        feature_row_id varchar not null,
        feature_quality_score double,
        features_computed_at timestamptz,
        scored_at timestamptz not null,
        p_over double,                         -- calibrated P(over) (issue #12); null without a line
        calibration_version varchar,           -- the calibrator of the model version (registry metadata)
        best_book varchar,                     -- book with the best price for a bet (OVER/UNDER only)
        best_price integer,                    -- that American price
        expected_value double                  -- EV of 1 unit on the lean side at its best price
    """,
    # feature rows refused before scoring, with the reason (never scored silently)
    "prediction_rejects": """
        prediction_run_id varchar not null,
        correlation_id varchar not null,
        system_id varchar not null,
        player_id bigint,
        game_date date,
        feature_row_id varchar,
        reason_code varchar not null,
        reason varchar not null,
        rejected_at timestamptz not null
    """,
}

# columns added after the first release: added in place to an existing raw.prediction_scores
# (create table if not exists does not add them); name -> type
PREDICTION_SCORES_ADDED_COLUMNS: dict[str, str] = {
    "p_over": "double",
    "calibration_version": "varchar",
    "best_book": "varchar",
    "best_price": "integer",
    "expected_value": "double",
}

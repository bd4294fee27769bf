"""ML parameters read from ``dbt_project.yml`` vars (one place for thresholds the SQL also uses).

The SQL models (coverage SLO, grading) read the same vars with ``var()``; Python reads the committed
defaults through :func:`load_ml_params`. Overriding with ``dbt --vars`` changes the SQL side only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from python_jobs.ml.features import load_project_vars


@dataclass(frozen=True)
class MlParams:
    # legacy thresholds (kept for reference; recommendations are price-aware, see min_ev)
    min_edge_points: float = 1.0
    min_confidence: float = 55.0
    # recommend OVER/UNDER only when the expected value of 1 unit at the best price >= min_ev
    min_ev: float = 0.02
    # share of players with a line that must be predicted per date
    coverage_slo: float = 0.95
    # rows whose feature_quality_score is below this are rejected ('low_feature_quality')
    min_feature_quality: float = 0.0
    # training: the latest whole game dates holding >= min(validation_rows, validation_max_share x
    # rows) labelled rows are the validation window; history used (None = all)
    validation_rows: int = 6000
    validation_max_share: float = 0.25
    training_lookback_days: int | None = None
    # rolling_average_v1: {feature name: weight}
    baseline_blend: dict[str, float] = field(default_factory=dict)
    # catboost_v1 hyper-parameters
    catboost: dict[str, Any] = field(default_factory=dict)
    # market_residual_v1: 'residual' or 'line_feature'; ridge penalty (rows-equivalent)
    market_mode: str = "residual"
    market_ridge: float = 200.0
    # market_residual_v1's correction weight (stacking on walk-forward held-out lined rows): a date's
    # held-out prediction needs >= market_stack_min_fit_rows lined rows before it; the weight needs
    # >= market_stack_min_rows held-out rows, else it is 0 (the market)
    market_stack_min_fit_rows: int = 200
    market_stack_min_rows: int = 500
    # P(over) calibrator (metrics.MarketCalibrator): prior at the no-vig market worth
    # calibration_prior_rows rows; fewer than calibration_min_rows held-out lined rows = the market
    calibration_prior_rows: float = 200.0
    calibration_min_rows: int = 200


def load_ml_params(home: Path | None = None) -> MlParams:
    vars_ = load_project_vars(home)

    def get(name: str, default: Any) -> Any:
        value = vars_.get(f"ml_{name}")
        return default if value is None else value

    defaults = MlParams()
    lookback = vars_.get("ml_training_lookback_days")
    return MlParams(
        min_edge_points=float(get("min_edge_points", defaults.min_edge_points)),
        min_confidence=float(get("min_confidence", defaults.min_confidence)),
        coverage_slo=float(vars_.get("coverage_slo") or defaults.coverage_slo),
        min_feature_quality=float(get("min_feature_quality", defaults.min_feature_quality)),
        min_ev=float(get("min_ev", defaults.min_ev)),
        validation_rows=int(get("validation_rows", defaults.validation_rows)),
        validation_max_share=float(get("validation_max_share", defaults.validation_max_share)),
        training_lookback_days=None if lookback is None else int(lookback),
        baseline_blend={str(k): float(v) for k, v in dict(get("baseline_blend", {})).items()},
        catboost=dict(get("catboost", {})),
        market_mode=str(get("market_mode", defaults.market_mode)),
        market_ridge=float(get("market_ridge", defaults.market_ridge)),
        market_stack_min_fit_rows=int(get("market_stack_min_fit_rows", defaults.market_stack_min_fit_rows)),
        market_stack_min_rows=int(get("market_stack_min_rows", defaults.market_stack_min_rows)),
        calibration_prior_rows=float(get("calibration_prior_rows", defaults.calibration_prior_rows)),
        calibration_min_rows=int(get("calibration_min_rows", defaults.calibration_min_rows)),
    )

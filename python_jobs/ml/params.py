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
    # recommend OVER/UNDER only when |edge| >= min_edge_points AND confidence >= min_confidence
    min_edge_points: float = 1.0
    min_confidence: float = 55.0
    # share of players with a line that must be predicted per date
    coverage_slo: float = 0.95
    # rows whose feature_quality_score is below this are rejected ('low_feature_quality')
    min_feature_quality: float = 0.0
    # training: days before the cutoff held out for validation; history used (None = all)
    validation_days: int = 21
    training_lookback_days: int | None = None
    # rolling_average_v1: {feature name: weight}
    baseline_blend: dict[str, float] = field(default_factory=dict)
    # catboost_v1 hyper-parameters
    catboost: dict[str, Any] = field(default_factory=dict)


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
        validation_days=int(get("validation_days", defaults.validation_days)),
        training_lookback_days=None if lookback is None else int(lookback),
        baseline_blend={str(k): float(v) for k, v in dict(get("baseline_blend", {})).items()},
        catboost=dict(get("catboost", {})),
    )

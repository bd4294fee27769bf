"""rolling_average_v1: the baseline, a fixed weighted blend of rolling points averages.

The blend (feature name -> weight) is the dbt var ``ml_baseline_blend``, e.g. season average and
last-10 average at 0.5 each. Nothing is learned; the weights are recorded with the model.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from python_jobs.ml.systems.base import FitContext, Model, System, feature_matrix


class RollingAverageModel(Model):
    system_id = "rolling_average_v1"

    def __init__(self, weights: dict[str, float]):
        if not weights:
            raise ValueError(
                "rolling_average_v1 needs the dbt var ml_baseline_blend ({feature: weight}); it is empty"
            )
        total = sum(weights.values())
        if total <= 0 or any(w < 0 for w in weights.values()):
            raise ValueError(f"ml_baseline_blend weights must be >= 0 with a positive sum: {weights}")
        self.weights = {k: v / total for k, v in weights.items()}
        self.hyperparameters = {"weights": self.weights}

    def predict_raw(self, frame: pd.DataFrame) -> np.ndarray:
        missing = [n for n in self.weights if n not in frame.columns]
        if missing:
            raise KeyError(f"rolling_average_v1: blend features not in the frame: {missing}")
        out = np.zeros(len(frame))
        for name, weight in self.weights.items():
            out += weight * frame[name].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
        return out

    def save(self, directory: Path) -> None:
        (directory / "weights.json").write_text(json.dumps(self.weights, indent=2, sort_keys=True))


class RollingAverageSystem(System):
    system_id = "rolling_average_v1"

    def _check(self, weights: dict[str, float], context: FitContext) -> None:
        unknown = [n for n in weights if n not in context.spec.names]
        if unknown:
            raise ValueError(f"ml_baseline_blend names features that are not in ml_features: {unknown}")

    def fit(self, train: pd.DataFrame, context: FitContext) -> Model:
        weights = context.params.baseline_blend
        self._check(weights, context)
        feature_matrix(train.head(1), context.spec)  # the frame carries the spec's columns
        return RollingAverageModel(weights)

    def load(self, directory: Path, context: FitContext) -> Model:
        weights = json.loads((directory / "weights.json").read_text())
        self._check(weights, context)
        return RollingAverageModel(weights)


SYSTEM = RollingAverageSystem()

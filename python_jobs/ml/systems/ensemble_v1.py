"""ensemble_v1: the plain average of rolling_average_v1 and catboost_v1 (no weights to tune)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from python_jobs.ml.systems.base import FitContext, Model, System

COMPONENTS = ("rolling_average_v1", "catboost_v1")


class EnsembleModel(Model):
    system_id = "ensemble_v1"

    def __init__(self, components: dict[str, Model]):
        missing = [c for c in COMPONENTS if c not in components]
        if missing:
            raise ValueError(f"ensemble_v1 needs fitted components {missing}")
        self.components = {c: components[c] for c in COMPONENTS}
        self.hyperparameters = {"components": list(COMPONENTS), "weights": [0.5, 0.5]}

    def predict_raw(self, frame: pd.DataFrame) -> np.ndarray:
        return np.mean([m.predict(frame) for m in self.components.values()], axis=0)

    def save(self, directory: Path) -> None:
        (directory / "ensemble.json").write_text(json.dumps(self.hyperparameters, indent=2))


class EnsembleSystem(System):
    system_id = "ensemble_v1"
    depends_on = COMPONENTS

    def fit(self, train: pd.DataFrame, context: FitContext) -> Model:
        return EnsembleModel(context.deps)

    def load(self, directory: Path, context: FitContext) -> Model:
        saved = json.loads((directory / "ensemble.json").read_text())
        if tuple(saved["components"]) != COMPONENTS:
            raise ValueError(f"ensemble_v1 artifact {directory} combines {saved['components']}, expected {COMPONENTS}")
        return EnsembleModel(context.deps)


SYSTEM = EnsembleSystem()

"""The prediction-system interface. A system is one module in this package exposing ``SYSTEM``.

A system knows how to fit a model on feature rows (``fit``) and how to load a saved one
(``load``). A model predicts points for a frame of feature rows and saves itself into a directory.
Systems that combine others name them in ``depends_on``; their fitted/loaded models are passed in
``FitContext.deps``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from python_jobs.ml.features import FeatureSpec
from python_jobs.ml.params import MlParams

SEED = 20250219


@dataclass
class FitContext:
    spec: FeatureSpec
    params: MlParams
    threads: int = 1
    seed: int = SEED
    deps: dict[str, Model] = field(default_factory=dict)


class Model(ABC):
    """A fitted model of one system."""

    system_id: str
    hyperparameters: dict[str, Any]
    needs_line: bool = False  # True: predicts only rows with a consensus line (and the market columns)

    @abstractmethod
    def predict_raw(self, frame: pd.DataFrame) -> np.ndarray:
        """Points predicted for each row of ``frame`` (feature columns named as in the spec)."""

    @abstractmethod
    def save(self, directory: Path) -> None:
        """Write the artifact files into ``directory`` (exists, empty)."""

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        raw = np.asarray(self.predict_raw(frame), dtype="float64")
        if raw.shape != (len(frame),):
            raise ValueError(f"{self.system_id}: {raw.shape} predictions for {len(frame)} rows")
        if not np.all(np.isfinite(raw)):
            raise ValueError(f"{self.system_id}: non-finite predictions for {int((~np.isfinite(raw)).sum())} rows")
        return np.clip(raw, 0.0, None)


class System(ABC):
    system_id: str
    depends_on: tuple[str, ...] = ()
    needs_line: bool = False  # fitted on and predicting only rows that have a consensus line

    @abstractmethod
    def fit(self, train: pd.DataFrame, context: FitContext) -> Model:
        """Fit on rows with features and ``actual_points`` (time-ordered, all before the cutoff)."""

    @abstractmethod
    def load(self, directory: Path, context: FitContext) -> Model:
        """Load a model saved by ``Model.save``."""


def feature_matrix(frame: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """The spec's columns, in the spec's order, numeric as float64 and categoricals as str."""
    missing = [n for n in spec.names if n not in frame.columns]
    if missing:
        raise KeyError(f"feature columns missing from the frame: {missing}")
    out = pd.DataFrame(index=frame.index)
    for f in spec.features:
        col = frame[f.name]
        if f.is_categorical:
            out[f.name] = col.astype("string").fillna("__missing__").astype(str)
        else:
            values = col.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
            out[f.name] = values
    return out

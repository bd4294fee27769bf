"""catboost_v1: CatBoostRegressor (RMSE) on every feature of the spec; deterministic seed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from python_jobs.ml.systems.base import FitContext, Model, System, feature_matrix

DEFAULTS: dict[str, Any] = {
    "iterations": 400,
    "depth": 6,
    "learning_rate": 0.08,
    "l2_leaf_reg": 3.0,
    "loss_function": "RMSE",
}


class CatBoostModel(Model):
    system_id = "catboost_v1"

    def __init__(self, booster, context: FitContext, hyperparameters: dict[str, Any]):
        self.booster = booster
        self.spec = context.spec
        self.hyperparameters = hyperparameters

    def predict_raw(self, frame: pd.DataFrame) -> np.ndarray:
        from catboost import Pool

        x = feature_matrix(frame, self.spec)
        return self.booster.predict(Pool(x, cat_features=self.spec.categorical_names or None))

    def save(self, directory: Path) -> None:
        self.booster.save_model(str(directory / "model.cbm"))


class CatBoostSystem(System):
    system_id = "catboost_v1"

    def hyperparameters(self, context: FitContext) -> dict[str, Any]:
        hp = {**DEFAULTS, **context.params.catboost}
        hp["random_seed"] = context.seed
        return hp

    def fit(self, train: pd.DataFrame, context: FitContext) -> Model:
        from catboost import CatBoostRegressor, Pool

        if train.empty:
            raise ValueError("catboost_v1: no training rows")
        hp = self.hyperparameters(context)
        booster = CatBoostRegressor(
            **hp,
            thread_count=context.threads,
            verbose=False,
            allow_writing_files=False,
        )
        x = feature_matrix(train, context.spec)
        y = train["actual_points"].astype("float64").to_numpy()
        booster.fit(Pool(x, y, cat_features=context.spec.categorical_names or None))
        return CatBoostModel(booster, context, hp)

    def load(self, directory: Path, context: FitContext) -> Model:
        from catboost import CatBoostRegressor

        booster = CatBoostRegressor()
        booster.load_model(str(directory / "model.cbm"))
        names = list(booster.feature_names_ or [])
        if names != context.spec.names:
            raise ValueError(
                f"catboost_v1 artifact {directory} was trained on features {names}, the spec has {context.spec.names}"
            )
        return CatBoostModel(booster, context, self.hyperparameters(context) | dict(booster.get_params()))


SYSTEM = CatBoostSystem()

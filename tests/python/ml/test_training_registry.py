"""Training: time split, determinism, metadata, registry and the spec check at load time."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from python_jobs.ml.features import parse_feature_spec
from python_jobs.ml.registry import ModelNotFoundError, ModelRegistry, ModelSpecMismatchError
from python_jobs.ml.systems import all_systems, resolve_order
from python_jobs.ml.training import train
from tests.python.ml import synthetic as syn
from tests.python.ml.conftest import SCORE_DATE


def test_system_registry_discovers_modules_and_orders_dependencies():
    assert {"rolling_average_v1", "catboost_v1", "ensemble_v1"} <= set(all_systems())
    order = resolve_order(["ensemble_v1"])
    assert order.index("ensemble_v1") > order.index("catboost_v1")
    assert order.index("ensemble_v1") > order.index("rolling_average_v1")


def test_train_registers_versions_with_metadata(synthetic_warehouse):
    settings, store, _ = synthetic_warehouse
    report = train(settings, cutoff=SCORE_DATE, spec=syn.SPEC, params=syn.PARAMS)
    assert set(report.models) == {"rolling_average_v1", "catboost_v1", "ensemble_v1", "market_residual_v1"}
    index = json.loads((settings.models_dir / "registry.json").read_text())
    for sid, info in report.models.items():
        assert index["systems"][sid]["current"] == info["version"]
        meta = json.loads((settings.models_dir / sid / info["version"] / "metadata.json").read_text())
        window = meta["training_window"]
        # time split only: training window strictly before the validation window, both before the cutoff
        assert window["train_end"] < window["validation_start"] <= window["validation_end"] < str(SCORE_DATE)
        assert meta["features"] == syn.SPEC.names and meta["feature_hash"] == syn.SPEC.hash
        assert meta["validation_mae"] > 0 and meta["residual_std"] >= meta["validation_mae"]
        assert meta["created_at"] and meta["hyperparameters"] is not None
        n_before = int((store["game_date"] < SCORE_DATE).sum())
        assert window["n_train"] + window["n_validation"] == n_before
    ens = json.loads((settings.models_dir / "ensemble_v1" / report.models["ensemble_v1"]["version"]
                      / "metadata.json").read_text())
    assert ens["component_versions"] == {"rolling_average_v1": report.models["rolling_average_v1"]["version"],
                                         "catboost_v1": report.models["catboost_v1"]["version"]}
    assert json.loads((settings.models_dir / "catboost_v1" / report.models["catboost_v1"]["version"]
                       / "metadata.json").read_text())["hyperparameters"]["random_seed"] == 20250219


def test_training_is_deterministic(synthetic_warehouse):
    settings, store, _ = synthetic_warehouse
    registry = ModelRegistry(settings.models_dir)
    day = store.loc[store["game_date"] == SCORE_DATE]
    preds = []
    for _ in range(2):
        train(settings, cutoff=SCORE_DATE, spec=syn.SPEC, params=syn.PARAMS, systems=["catboost_v1"])
        loaded = registry.load(["catboost_v1"], syn.SPEC, syn.PARAMS)
        preds.append(loaded["catboost_v1"].model.predict(day))
    assert np.array_equal(preds[0], preds[1])
    assert len(registry.index()["systems"]["catboost_v1"]["versions"]) == 2


def test_scoring_refuses_a_model_trained_on_another_feature_list(synthetic_warehouse):
    settings, _, _ = synthetic_warehouse
    registry = ModelRegistry(settings.models_dir)
    with pytest.raises(ModelNotFoundError, match="nba-props train"):
        registry.load(["catboost_v1"], syn.SPEC, syn.PARAMS)
    train(settings, cutoff=SCORE_DATE, spec=syn.SPEC, params=syn.PARAMS)
    changed = parse_feature_spec([
        *[{"name": f.name, "dtype": f.dtype, "default": f.default} for f in syn.SPEC.features],
        {"name": "rebounds_avg_last_10", "dtype": "float", "default": 0},
    ])
    with pytest.raises(ModelSpecMismatchError, match="added: \\['rebounds_avg_last_10'\\]"):
        registry.load(None, changed, syn.PARAMS)
    # a default change alone changes the hash too
    redefaulted = replace(syn.SPEC, features=(replace(syn.SPEC.features[0], default=99),
                                              *syn.SPEC.features[1:]))
    with pytest.raises(ModelSpecMismatchError, match="Retrain"):
        registry.load(["rolling_average_v1"], redefaulted, syn.PARAMS)


def test_scoring_refuses_a_model_that_saw_the_scored_date(synthetic_warehouse):
    from datetime import timedelta

    from python_jobs.ml.registry import ModelFromTheFutureError
    from python_jobs.ml.scoring import score_date

    settings, store, _ = synthetic_warehouse
    train(settings, cutoff=SCORE_DATE + timedelta(days=5), spec=syn.SPEC, params=syn.PARAMS,
          systems=["rolling_average_v1"])
    with pytest.raises(ModelFromTheFutureError, match="nba-props train --cutoff 2025-01-15"):
        score_date(settings, SCORE_DATE, spec=syn.SPEC, params=syn.PARAMS, systems=["rolling_average_v1"],
                   build=False)
    report = score_date(settings, SCORE_DATE, spec=syn.SPEC, params=syn.PARAMS, systems=["rolling_average_v1"],
                        build=False, allow_future_model=True)
    assert report.n_predictions == int((store["game_date"] == SCORE_DATE).sum())
    # a model trained for the date itself is accepted
    train(settings, cutoff=SCORE_DATE, spec=syn.SPEC, params=syn.PARAMS, systems=["rolling_average_v1"])
    assert score_date(settings, SCORE_DATE, spec=syn.SPEC, params=syn.PARAMS, systems=["rolling_average_v1"],
                      build=False).n_predictions == report.n_predictions


def test_the_calibration_version_is_stored_with_the_model_version_and_recorded_by_scoring(tmp_settings):
    """Lines on every date from the store's 6th day up to the scored date: each system's calibrator is
    fitted (its stack and the held-out evidence for its weight), stored in the version's metadata with its version, loaded back
    with it, and every score of the date records that version; the market system's weighted
    correction loads back to the same predictions."""
    from python_jobs.ml.scoring import score_date
    from python_jobs.warehouse.connection import connect

    store = syn.make_store()
    dates = sorted(d for d in set(store["game_date"]) if d <= SCORE_DATE)[5:]
    lines = syn.make_lines(store, dates)
    with connect(tmp_settings) as con:
        syn.write_tables(con, store, lines)
    params = replace(syn.PARAMS, validation_rows=400, calibration_min_rows=50, market_stack_min_rows=200,
                     market_stack_min_fit_rows=100)
    report = train(tmp_settings, cutoff=SCORE_DATE, spec=syn.SPEC, params=params)
    registry = ModelRegistry(tmp_settings.models_dir)
    loaded = registry.load(None, syn.SPEC, params)
    stored = {}
    for sid, info in report.models.items():
        meta = json.loads((tmp_settings.models_dir / sid / info["version"] / "metadata.json").read_text())
        assert meta["calibration_version"] == meta["calibration"]["version"] == info["calibration_version"]
        cal = meta["calibration"]
        assert cal["n"] >= 50 and cal["stack"] is not None and cal["evidence"]["n"] > 0, sid  # fitted
        assert (meta["calibration_version"] == "market") == (cal["weight"] == 0), sid
        assert meta["calibration_version"].startswith("stack-") or cal["weight"] == 0, sid
        assert meta["calibration"]["fitted_through"] < str(SCORE_DATE)
        assert loaded[sid].calibrator.version == meta["calibration_version"]
        stored[sid] = (info["version"], meta["calibration_version"])
    market_meta = json.loads((tmp_settings.models_dir / "market_residual_v1" /
                              report.models["market_residual_v1"]["version"] / "metadata.json").read_text())
    assert market_meta["hyperparameters"]["stack"]["n"] >= 200
    score_date(tmp_settings, SCORE_DATE, spec=syn.SPEC, params=params, build=False)
    with connect(tmp_settings) as con:
        rows = con.fetchall("select distinct system_id, model_version, calibration_version "
                            "from raw.prediction_scores where line_source = 'consensus_main'")
    assert {r[0]: (r[1], r[2]) for r in rows} == stored

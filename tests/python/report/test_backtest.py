"""Reading the walk-forward backtest JSON."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from python_jobs.report.backtest import default_backtest_path, load_backtest
from tests.python.conftest import make_settings


def test_reads_overall_buckets_sides_and_calibration(backtest_file: Path):
    bt = load_backtest(backtest_file)
    overall = bt.group("overall").set_index("system_id")
    assert list(overall.index) == ["catboost_v1", "rolling_average_v1"]
    assert overall.loc["rolling_average_v1", "hits"] == 120
    assert overall.loc["catboost_v1", "hit_rate"] == pytest.approx(60 / 110)
    buckets = bt.group("edge_bucket")
    assert buckets.groupby("system_id")["label"].apply(list).to_dict() == {
        s: ["0-1", "1-2", "2-3", "3-5", "5+"] for s in ("catboost_v1", "rolling_average_v1")}
    # the 0-1 bucket has no bets: its hit rate is missing, not zero
    assert pd.isna(buckets.loc[buckets["label"] == "0-1", "hit_rate"]).all()
    assert sorted(bt.group("side")["label"].unique()) == ["OVER", "UNDER"]
    # calibration points with null figures (empty bucket) are left out
    assert len(bt.calibration) == 4
    assert bt.calibration["mean_confidence"].between(0, 1).all()
    assert bt.meta["start"] == "2025-01-01"


@pytest.mark.parametrize("doc, message", [
    ({"start": "2025-01-01"}, "no `systems`"),
    ({"systems": {"catboost_v1": {"edge_buckets": {}}}}, "no `overall`"),
    ({"systems": {"catboost_v1": {"overall": [1, 2]}}}, "expected an object"),
])
def test_refuses_other_shapes(tmp_path: Path, doc: dict, message: str):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match=message):
        load_backtest(path)


def test_default_is_own_newest_run_then_the_bundled_file(tmp_path: Path):
    home = tmp_path / "home"
    (home / "docs").mkdir(parents=True)
    settings = make_settings(tmp_path / "wh").model_copy(update={"home": home})
    assert default_backtest_path(settings) is None
    bundled = home / "docs" / "backtest_2025.json"
    bundled.write_text("{}")
    assert default_backtest_path(settings) == bundled
    own = settings.warehouse_dir / "backtests" / "mine.json"
    own.parent.mkdir(parents=True)
    own.write_text("{}")
    assert default_backtest_path(settings) == own


def test_reads_what_the_ml_backtest_writes(tmp_path: Path):
    """Contract: the report parses the JSON produced by python_jobs.ml.backtest.report."""
    from python_jobs.ml import backtest as ml_backtest

    rows = []
    for i, (edge, actual, rec) in enumerate([(3.0, 25, "OVER"), (-2.5, 10, "UNDER"), (1.5, 15, "OVER"),
                                             (0.5, 21, "PASS"), (-4.0, 18, "UNDER")]):
        line = 20.5 if i != 1 else 14.5
        rows.append({"system_id": "catboost_v1", "player_id": i, "game_date": date(2025, 3, 1 + i % 2),
                     "predicted_points": line + edge, "prediction_std": 5.0, "line_points": line, "edge": edge,
                     "confidence": 60.0, "p_over": 0.6 if edge > 0 else 0.4, "recommendation": rec,
                     "over_price": -110, "under_price": -110,
                     "is_upcoming": False, "did_play": True, "actual_points": actual})
    graded = ml_backtest.grade(pd.DataFrame(rows))
    doc = ml_backtest.report(graded, pd.DataFrame(), [])
    path = tmp_path / "bt.json"
    path.write_text(json.dumps(doc, default=str))
    bt = load_backtest(path)
    overall = bt.group("overall").iloc[0]
    # bets: OVER 25>20.5 hit, UNDER 10<14.5 hit, OVER 15<20.5 miss, UNDER 18<20.5 hit
    assert (overall.system_id, overall.n_bets, overall.hits, overall.misses) == ("catboost_v1", 4, 3, 1)
    assert len(bt.group("edge_bucket")) == 5
    assert not bt.calibration.empty


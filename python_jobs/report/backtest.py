"""Read the walk-forward backtest JSON (``nba-props backtest --output FILE.json``) for the report.

The file is written by ``python_jobs.ml.backtest.backtest``; the report reads this shape::

    {"start": "...", "end": "...", "n_game_dates": 40, ...,
     "systems": {"<system_id>": {
         "overall": {<metrics>},
         "edge_buckets": {"0-1": {<metrics>}, "1-2": {...}, ..., "5+": {...}},
         "by_side": {"OVER": {<metrics>}, "UNDER": {<metrics>}},
         "calibration": {"by_confidence": [{"confidence_bucket", "n", "mean_predicted_probability",
                                            "observed_win_rate"}, ...], "share_within_1_std": ...}}}}

with ``<metrics>`` = ``n_predictions``, ``n_bets``, ``hits``, ``misses``, ``pushes``, ``hit_rate``,
``wilson_low``, ``wilson_high``, ``roi``, ``mae_model``, ``mae_line``, ``lean_hits``,
``lean_misses``, ``lean_hit_rate``, ``lean_wilson_low``, ``lean_wilson_high``, and (issue #12)
``brier``, ``brier_market``, ``log_loss``, ``log_loss_market``, ``ece`` (null when undefined or
absent: older files).
A file without a ``systems`` object holding at least one system with ``overall`` figures is
refused with a ``ValueError`` naming what is missing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from python_jobs.config import Settings

METRIC_KEYS = ["n_predictions", "n_bets", "hits", "misses", "pushes", "hit_rate", "wilson_low", "wilson_high",
               "roi", "mae_model", "mae_line", "lean_hits", "lean_misses", "lean_hit_rate", "lean_wilson_low",
               "lean_wilson_high", "brier", "brier_market", "log_loss", "log_loss_market", "ece"]
META_KEYS = ("start", "end", "n_game_dates", "n_graded_game_dates", "retrain_every_days", "generated_at")
BUNDLED_BACKTEST = Path("docs") / "backtest_2025.json"


@dataclass
class Backtest:
    path: Path
    metrics: pd.DataFrame       # one row per (system_id, group, label): group overall | edge_bucket | side
    calibration: pd.DataFrame   # system_id, bin, n, mean_confidence, observed
    meta: dict[str, object] = field(default_factory=dict)

    def group(self, name: str) -> pd.DataFrame:
        return self.metrics[self.metrics["group"] == name].reset_index(drop=True)


def default_backtest_path(settings: Settings) -> Path | None:
    """The newest ``*.json`` under ``warehouse_dir/backtests`` (a run of your own), else the
    bundled ``docs/backtest_2025.json``; None when neither exists."""
    folder = settings.warehouse_dir / "backtests"
    if folder.is_dir():
        files = sorted(folder.glob("*.json"), key=lambda p: (p.stat().st_mtime, p.name))
        if files:
            return files[-1]
    bundled = settings.home / BUNDLED_BACKTEST
    return bundled if bundled.is_file() else None


def _metrics_row(system_id: str, group: str, label: str, values: object, where: str) -> dict:
    if not isinstance(values, dict):
        raise ValueError(f"{where}: expected an object of metrics, got {type(values).__name__}")
    row: dict[str, object] = {"system_id": system_id, "group": group, "label": label}
    for key in METRIC_KEYS:
        v = values.get(key)
        row[key] = float(v) if isinstance(v, int | float) and not isinstance(v, bool) else float("nan")
    return row


def load_backtest(path: Path) -> Backtest:
    """Parse a backtest file; raises ValueError when it is not the shape described above."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from exc
    systems = doc.get("systems") if isinstance(doc, dict) else None
    if not isinstance(systems, dict) or not systems:
        raise ValueError(f"{path}: no `systems` object with per-system results")
    rows: list[dict] = []
    cal: list[dict] = []
    for system_id, body in sorted(systems.items()):
        if not isinstance(body, dict) or "overall" not in body:
            raise ValueError(f"{path}: systems.{system_id} has no `overall` figures")
        rows.append(_metrics_row(system_id, "overall", "all", body["overall"], f"systems.{system_id}.overall"))
        for group, key in (("edge_bucket", "edge_buckets"), ("side", "by_side")):
            for label, values in (body.get(key) or {}).items():
                rows.append(_metrics_row(system_id, group, str(label), values, f"systems.{system_id}.{key}.{label}"))
        calibration = body.get("calibration") or {}
        for point in calibration.get("by_confidence") or [] if isinstance(calibration, dict) else []:
            x, y = point.get("mean_predicted_probability"), point.get("observed_win_rate")
            if isinstance(x, int | float) and isinstance(y, int | float):
                cal.append({"system_id": system_id, "bin": str(point.get("confidence_bucket", "")),
                            "n": int(point.get("n") or 0), "mean_confidence": float(x), "observed": float(y)})
    meta = {k: doc[k] for k in META_KEYS if isinstance(doc.get(k), str | int | float)}
    return Backtest(path=path, metrics=pd.DataFrame(rows),
                    calibration=pd.DataFrame(cal, columns=["system_id", "bin", "n", "mean_confidence", "observed"]),
                    meta=meta)

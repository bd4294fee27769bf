"""Read the walk-forward backtest JSON (``nba-props backtest --output FILE.json``) for the report.

The report does not depend on the exact nesting of the file: it collects every object that holds
backtest metrics (``n_predictions`` or ``hit_rate``) with the keys that lead to it, naming the
system (under ``systems`` or a ``system_id`` field) and the edge bucket (under ``edge_buckets`` /
``buckets`` or an ``edge_bucket`` field), and every ``calibration`` list of points.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from python_jobs.config import Settings

METRIC_KEYS = ["n_predictions", "n_bets", "hits", "pushes", "hit_rate", "wilson_low", "wilson_high", "roi",
               "mae_model", "mae_line"]
SYSTEM_CONTAINERS = {"systems", "by_system", "system"}
BUCKET_CONTAINERS = {"edge_buckets", "buckets", "by_edge_bucket", "edge_bucket"}
CAL_X = ("mean_confidence", "stated_probability", "predicted_probability", "mean_predicted", "expected",
         "confidence", "p_mean", "predicted")
CAL_Y = ("observed", "observed_hit_rate", "observed_rate", "hit_rate", "actual", "win_rate")


@dataclass
class Backtest:
    path: Path
    metrics: pd.DataFrame
    calibration: pd.DataFrame
    meta: dict[str, object] = field(default_factory=dict)


def default_backtest_path(settings: Settings) -> Path | None:
    """The newest ``*.json`` under ``warehouse_dir/backtests`` (None when there is none)."""
    folder = settings.warehouse_dir / "backtests"
    if not folder.is_dir():
        return None
    files = sorted(folder.glob("*.json"), key=lambda p: (p.stat().st_mtime, p.name))
    return files[-1] if files else None


def _label(d: dict, path: list[str], field_names: tuple[str, ...], containers: set[str]) -> str | None:
    for name in field_names:
        if name in d and isinstance(d[name], str | int | float):
            return str(d[name])
    for i in range(len(path) - 1):
        if path[i] in containers:
            return path[i + 1]
    return None


def _walk(node: object, path: list[str], metrics: list[dict], cal: list[dict]) -> None:
    if isinstance(node, dict):
        if any(k in node for k in ("n_predictions", "hit_rate")) and not isinstance(node.get("hit_rate"), dict | list):
            system = _label(node, path, ("system_id", "system"), SYSTEM_CONTAINERS)
            bucket = _label(node, path, ("edge_bucket", "bucket"), BUCKET_CONTAINERS)
            row = {"system_id": system or "(all)", "edge_bucket": bucket or "all",
                   "path": " / ".join(path)}
            for k in METRIC_KEYS:
                v = node.get(k)
                row[k] = v if isinstance(v, int | float) and not isinstance(v, bool) else None
            metrics.append(row)
        for key, value in node.items():
            if key == "calibration":
                _calibration(value, path, cal)
            elif isinstance(value, dict | list):
                _walk(value, [*path, str(key)], metrics, cal)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            _walk(item, [*path, str(i)] if not isinstance(item, dict) else path, metrics, cal)


def _calibration(value: object, path: list[str], cal: list[dict]) -> None:
    points = value if isinstance(value, list) else (value.get("bins") or value.get("points") if isinstance(value, dict) else None)
    if not isinstance(points, list):
        return
    system = _label({}, [*path, "calibration"], (), SYSTEM_CONTAINERS) or "(all)"
    for p in points:
        if not isinstance(p, dict):
            continue
        x_key = next((k for k in CAL_X if isinstance(p.get(k), int | float)), None)
        y_key = next((k for k in CAL_Y if isinstance(p.get(k), int | float) and k != x_key), None)
        if x_key is None or y_key is None:
            continue
        x, y = float(p[x_key]), float(p[y_key])
        cal.append({"system_id": p.get("system_id", system), "mean_confidence": x / 100 if x > 1 else x,
                    "observed": y / 100 if y > 1 else y, "n": p.get("n", p.get("n_predictions", 0)) or 0})


def load_backtest(path: Path) -> Backtest:
    """Parse a backtest file; raises ValueError when it holds no metrics the report can show."""
    doc = json.loads(path.read_text())
    metrics: list[dict] = []
    cal: list[dict] = []
    _walk(doc, [], metrics, cal)
    if not metrics:
        raise ValueError(f"{path}: no backtest metrics (objects with n_predictions/hit_rate) found")
    meta = {k: v for k, v in doc.items() if isinstance(v, str | int | float)} if isinstance(doc, dict) else {}
    return Backtest(path=path, metrics=pd.DataFrame(metrics),
                    calibration=pd.DataFrame(cal, columns=["system_id", "mean_confidence", "observed", "n"]),
                    meta=meta)

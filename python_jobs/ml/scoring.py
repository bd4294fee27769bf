"""Daily scoring (Phase 5): feature rows of one game date -> raw.prediction_scores -> dbt merge.

``score_date`` reads the date's feature rows and consensus main lines, validates every row
(rejects go to ``raw.prediction_rejects`` with their reason, one row per system), scores the
accepted rows with the current registered model of each system, bulk-inserts the scores, closes
the connection and runs ``dbt build --selector phase5`` for that date: the staging view keeps the
latest score per (system_id, player_id, game_date, line_source) and ``player_prop_predictions``
MERGEs it. A file lock serialises scorers of the same warehouse (DuckDB has one writer); the merge
on the unique key makes repeats idempotent.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pandas as pd
import pyarrow as pa
from filelock import FileLock

from python_jobs.config import Settings
from python_jobs.dbt_runner import run_dbt
from python_jobs.ml.features import FeatureSpec, feature_snapshot, load_feature_spec, snapshot_hash
from python_jobs.ml.params import MlParams, load_ml_params
from python_jobs.ml.predict import SCORE_COLUMNS, LoadedModel, score_frame
from python_jobs.ml.registry import ModelFromTheFutureError, ModelRegistry
from python_jobs.ml.training import FEATURE_STORE, feature_store_columns
from python_jobs.ml.validation import REJECT_COLUMNS, validate_feature_rows
from python_jobs.warehouse.base import Warehouse

log = logging.getLogger(__name__)
CONSENSUS_LINES = "analytics.player_consensus_lines"
MARKET_LINES = "precompute.player_market_lines"
LINE_COLUMNS = ["player_id", "consensus_line_points", "bookmaker_keys", "over_price", "under_price",
                "n_books"]
MARKET_COLUMNS = ["no_vig_over_probability", "line_spread", "line_movement", "n_snapshots", "best_over_book",
                  "best_over_price", "best_under_book", "best_under_price"]


def read_lines(con, *, on: date | None = None, before: date | None = None, start: date | None = None,
               end: date | None = None) -> pd.DataFrame:
    """Consensus lines with their market columns (game_date, LINE_COLUMNS, MARKET_COLUMNS): of one
    date (``on``), of dates before ``before``, or of [start, end]. Column names come from code."""
    if on is not None:
        where, params = "c.game_date = ?", [on]
    elif before is not None:
        where, params = "c.game_date < ?", [before]
    elif start is not None and end is not None:
        where, params = "c.game_date between ? and ?", [start, end]
    else:
        raise ValueError("read_lines needs on=, before= or start= and end=")
    cols = ", ".join([f"c.{c}" for c in LINE_COLUMNS] + [f"m.{c}" for c in MARKET_COLUMNS])
    frame = con.fetch_df(
        f"select c.game_date, {cols} from {CONSENSUS_LINES} as c left join {MARKET_LINES} as m "
        f"on c.player_id = m.player_id and c.game_date = m.game_date where {where} "
        "order by c.game_date, c.player_id", params)
    frame["game_date"] = pd.to_datetime(frame["game_date"]).dt.date
    return frame


@dataclass
class ScoreReport:
    prediction_run_id: str
    game_date: date
    n_feature_rows: int
    n_players_with_line: int
    n_scored: dict[str, int] = field(default_factory=dict)
    n_rejected: dict[str, int] = field(default_factory=dict)
    recommendations: dict[str, dict[str, int]] = field(default_factory=dict)
    model_versions: dict[str, str] = field(default_factory=dict)
    dbt_built: bool = False

    @property
    def n_predictions(self) -> int:
        """Rows scored over all systems (the pipeline's rows_out)."""
        return sum(self.n_scored.values())


def read_day(con: Warehouse, spec: FeatureSpec, game_date: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(feature rows, consensus lines) of one game date."""
    features = con.fetch_df(
        f"select {feature_store_columns(spec)} from {FEATURE_STORE} where game_date = ? order by player_id",
        [game_date],
    )
    lines = read_lines(con, on=game_date).drop(columns=["game_date"])
    return features, lines


def attach_lines(features: pd.DataFrame, lines: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Left-join the consensus line on player_id; also return lines that have no feature row."""
    if lines["player_id"].duplicated().any():
        raise ValueError("consensus lines hold several rows for one player and date (pk broken)")
    joined = features.merge(lines, on="player_id", how="left", validate="many_to_one")
    orphans = lines.loc[~lines["player_id"].isin(features["player_id"])]
    return joined, orphans


def build_day_scores(features: pd.DataFrame, lines: pd.DataFrame, models: list[LoadedModel],
                     spec: FeatureSpec, params: MlParams, game_date: date
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scores and rejects (per system) for one date; pure, no I/O (the backtest uses it too)."""
    joined, orphans = attach_lines(features, lines)
    valid, rejects = validate_feature_rows(joined, spec, params, game_date)
    orphan_rejects = pd.DataFrame({
        "player_id": orphans["player_id"].astype("int64"),
        "game_date": game_date,
        "feature_row_id": None,
        "reason_code": "no_feature_row",
        "reason": "player has a consensus line but no row in ml_feature_store",
    })
    all_rejects = pd.concat([r for r in (rejects, orphan_rejects) if not r.empty], ignore_index=True) \
        if not (rejects.empty and orphan_rejects.empty) else pd.DataFrame(columns=REJECT_COLUMNS)
    scores = score_frame(valid, models, params)
    per_system = [all_rejects.assign(system_id=m.system_id) for m in models]
    reject_rows = pd.concat(per_system, ignore_index=True) if per_system else all_rejects
    return scores, reject_rows


def score_date(settings: Settings, game_date: date, correlation_id: str | None = None, *,
               systems: list[str] | None = None, build: bool = True,
               spec: FeatureSpec | None = None, params: MlParams | None = None,
               allow_future_model: bool = False) -> ScoreReport:
    """Score one game date with the current model of each system and consolidate with dbt.

    ``scored_at`` is the wall-clock UTC time of the run (also under a fake ``settings.now``, like
    ``scraped_at``), so the latest rerun of a date is the one merged.
    """
    from python_jobs.warehouse.connection import connect

    correlation_id = correlation_id or "manual"

    spec = spec or load_feature_spec(settings.home)
    params = params or load_ml_params(settings.home)
    registry = ModelRegistry(settings.models_dir)
    loaded = registry.load(systems, spec, params, threads=settings.threads)
    check_model_dates(loaded, game_date, allow_future_model)
    models = list(loaded.values())
    run_id = uuid.uuid4().hex
    now = datetime.now(UTC)
    lock_path = settings.warehouse_dir / "locks" / "scoring.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(lock_path)):
        with connect(settings) as con:
            features, lines = read_day(con, spec, game_date)
            scores, rejects = build_day_scores(features, lines, models, spec, params, game_date)
            _insert(con, "prediction_scores", with_feature_snapshots(scores, features, spec).assign(
                prediction_run_id=run_id, correlation_id=correlation_id, scored_at=now), _SCORE_INSERT)
            _insert(con, "prediction_rejects", rejects.assign(
                prediction_run_id=run_id, correlation_id=correlation_id, rejected_at=now), _REJECT_INSERT)
        report = ScoreReport(
            prediction_run_id=run_id,
            game_date=game_date,
            n_feature_rows=len(features),
            n_players_with_line=len(lines),
            n_scored={k: int(v) for k, v in Counter(scores["system_id"]).items()},
            n_rejected={str(k): int(v) for k, v in
                        rejects.drop_duplicates(["player_id", "reason_code"])["reason_code"].value_counts().items()},
            recommendations={
                sid: {str(k): int(v) for k, v in grp["recommendation"].value_counts().items()}
                for sid, grp in scores.groupby("system_id")
            },
            model_versions={sid: m.version for sid, m in loaded.items()},
        )
        log.info("scored %s: %s rows, rejected %s", game_date, report.n_scored, report.n_rejected)
        if build:
            run_dbt(["build", "--selector", "phase5"], settings,
                    vars={"run_date": str(game_date), "correlation_id": correlation_id})
            report.dbt_built = True
    return report


def check_model_dates(loaded: dict[str, LoadedModel], game_date: date, allow_future_model: bool) -> None:
    """Refuse to score D with a model that saw games on/after D (its grades would be leakage)."""
    late = {sid: m.trained_through for sid, m in loaded.items()
            if m.trained_through and date.fromisoformat(m.trained_through) >= game_date}
    if late and not allow_future_model:
        raise ModelFromTheFutureError(
            f"cannot score {game_date}: the current models were trained on games up to {late}, on/after "
            f"that date. Train a model for it (`nba-props train --cutoff {game_date}`) or pass "
            "allow_future_model=True (`--allow-future-model`) knowingly."
        )


_SCORE_INSERT = ["prediction_run_id", "correlation_id", *SCORE_COLUMNS, "scored_at", "feature_values_json",
                 "feature_values_hash"]


def with_feature_snapshots(scores: pd.DataFrame, features: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """``scores`` plus the feature values each row was scored with (``feature_snapshot``) and their hash."""
    snaps = {str(r["feature_row_id"]): feature_snapshot(r, spec.names) for r in features.to_dict("records")}
    out = scores.copy()
    out["feature_values_json"] = out["feature_row_id"].map(lambda fid: snaps.get(str(fid)))
    out["feature_values_hash"] = out["feature_values_json"].map(lambda s: snapshot_hash(s) if s else None)
    return out
_REJECT_INSERT = ["prediction_run_id", "correlation_id", "system_id", *REJECT_COLUMNS, "rejected_at"]


def _insert(con: Warehouse, table: str, frame: pd.DataFrame, columns: list[str]) -> int:
    """One bulk load of ``frame[columns]`` into ``raw.<table>`` (columns from code, not input)."""
    if frame.empty:
        return 0
    out = frame[columns].copy()
    if "game_date" in out:  # rejects mix datetime.date and Timestamp values: one Arrow date32 column
        out["game_date"] = pd.to_datetime(out["game_date"]).dt.date
    return con.load_arrow(f"raw.{table}", pa.Table.from_pandas(out, preserve_index=False))

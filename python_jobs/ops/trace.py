"""``nba-props trace``: prediction -> feature row and its sources -> staged rows -> raw payloads
and scrape runs. Each section says which relation it read; a relation that is not built in this
warehouse is reported as such (the chain stops there)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from python_jobs.config import Settings
from python_jobs.ops.counts import relation_exists
from python_jobs.ops.guard import short_write
from python_jobs.warehouse.base import Warehouse
from python_jobs.warehouse.partitions import floor_date

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class TraceNotFound(LookupError):
    pass


@dataclass
class TraceSection:
    title: str
    relation: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    missing_relation: bool = False


@dataclass
class Trace:
    """The trace of one player's predictions on one date: the sections every system shares are
    listed once; ``predictions``, ``graded result`` and ``scoring runs`` hold one row per system
    (per run). ``warnings``: the feature row changed since it was scored, a missing snapshot."""

    prediction_ids: list[str]
    sections: list[TraceSection] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def prediction_id(self) -> str:
        return self.prediction_ids[0]

    def section(self, title: str) -> TraceSection:
        return next(s for s in self.sections if s.title == title)

    def to_json(self) -> dict[str, Any]:
        """The ``trace --json`` document of one player-date (shape in the README)."""
        return {"prediction_ids": self.prediction_ids, "warnings": self.warnings,
                "sections": [{"title": s.title, "relation": s.relation, "missing_relation": s.missing_relation,
                              "rows": s.rows} for s in self.sections]}


def _section(con, title: str, schema: str, table: str, sql: str, params: list[Any]) -> TraceSection:
    sec = TraceSection(title, f"{schema}.{table}")
    if not relation_exists(con, schema, table):
        sec.missing_relation = True
        return sec
    sec.rows = con.fetch_dicts(sql, params)
    return sec


def _has_column(con: Warehouse, schema: str, table: str, column: str) -> bool:
    return bool(con.scalar("select count(*) from information_schema.columns where table_schema = ? "
                           "and table_name = ? and column_name = ?", [schema, table, column]))


def find_predictions(settings: Settings, player: str, game_date: date) -> list[str]:
    """Prediction ids for a player (id or part of the name) on a game date."""
    with short_write(settings) as con:
        if not relation_exists(con, "predictions", "player_prop_predictions"):
            raise TraceNotFound("predictions.player_prop_predictions is not built in this warehouse")
        if player.isdigit():
            where, param = "p.player_id = ?", int(player)
        else:
            if not relation_exists(con, "staging", "stg_nba__players"):
                raise TraceNotFound("give a player id: staging.stg_nba__players is not built")
            # accent- and case-insensitive: "jokic" finds "Nikola Jokić"
            where = ("p.player_id in (select player_id from staging.stg_nba__players "
                     "where strip_accents(player_name) ilike strip_accents(?))")
            param = f"%{player}%"
        rows = con.fetchall(
            f"select p.prediction_id from predictions.player_prop_predictions p where {where} and p.game_date = ? "
            "order by p.system_id, p.line_source", [param, game_date])
    if not rows:
        raise TraceNotFound(f"no prediction for player {player!r} on {game_date}")
    return [r[0] for r in rows]


def trace_prediction(settings: Settings, prediction_id: str, *, n_games: int = 5) -> Trace:
    """The trace of one prediction (``trace_predictions`` of one id)."""
    return trace_predictions(settings, [prediction_id], n_games=n_games)[0]


def trace_predictions(settings: Settings, prediction_ids: list[str], *, n_games: int = 5) -> list[Trace]:
    """One ``Trace`` per (player, game date) among ``prediction_ids``: the systems' predictions of a
    player-date share one trace (their feature row, box scores, lines and payloads are the same)."""
    out: list[Trace] = []
    with short_write(settings) as con:
        # an id names no date: the ids' partitions are found first (every partition, two narrow
        # columns), then the rows are read from those partitions only
        dates = ([d for (d,) in con.fetchall(
            "select distinct game_date from predictions.player_prop_predictions "
            "where game_date >= ? and prediction_id in (select unnest(?::varchar[]))",
            [floor_date(settings.home), list(prediction_ids)])]
            if relation_exists(con, "predictions", "player_prop_predictions") else [])
        pred = _section(con, "predictions", "predictions", "player_prop_predictions",
                        "select * from predictions.player_prop_predictions "
                        "where game_date in (select unnest(?::date[])) "
                        "and prediction_id in (select unnest(?::varchar[])) order by system_id, line_source",
                        [dates, list(prediction_ids)])
        if pred.missing_relation:
            return [Trace(list(prediction_ids), [pred])]
        found = {r["prediction_id"] for r in pred.rows}
        unknown = [pid for pid in prediction_ids if pid not in found]
        if unknown:
            raise TraceNotFound(f"no prediction with id {unknown[0]!r}")
        groups: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
        for r in pred.rows:
            groups.setdefault((r["player_id"], r["game_date"]), []).append(r)
        for rows in groups.values():
            out.append(_trace_player_date(con, settings, rows, n_games))
    return out


def _trace_player_date(con: Warehouse, settings: Settings, preds: list[dict[str, Any]], n_games: int) -> Trace:
    out = Trace([p["prediction_id"] for p in preds])
    p = preds[0]
    ids = out.prediction_ids
    out.sections.append(TraceSection("predictions", "predictions.player_prop_predictions", preds))
    out.sections.append(_section(
        con, "graded result", "grading", "prediction_accuracy",
        "select system_id, line_source, recommendation, line_points, predicted_points, grade_status, actual_points, "
        "actual_minutes, actual_side, bet_result, lean_result, profit_units, absolute_error, graded_at "
        "from grading.prediction_accuracy where game_date = ? and prediction_id in (select unnest(?::varchar[])) "
        "order by system_id, line_source", [p["game_date"], ids]))
    graded = out.sections[-1]
    if not graded.missing_relation and not graded.rows:
        out.warnings.append(f"not graded yet: no row in grading.prediction_accuracy for {p['game_date']} "
                            f"(run `nba-props grade --date {p['game_date']}` once the game is final)")
    # a warehouse whose raw layer predates the feature snapshot has no such columns: nulls instead
    snap_cols = ("s.feature_values_hash, s.feature_values_json" if _has_column(con, "raw", "prediction_scores",
                                                                            "feature_values_json")
                 else "null as feature_values_hash, null as feature_values_json")
    scores = _section(
        con, "scoring runs (raw)", "raw", "prediction_scores",
        "select s.prediction_run_id, s.correlation_id, s.system_id, s.model_version, s.predicted_points, "
        "s.line_points, s.recommendation, s.best_book, s.best_price, s.feature_row_id, "
        f"{snap_cols}, s.scored_at from raw.prediction_scores s "
        "where s.player_id = ? and s.game_date = ? and s.system_id in (select unnest(?::varchar[])) "
        "order by s.scored_at desc, s.system_id",
        [p["player_id"], p["game_date"], sorted({q["system_id"] for q in preds})])
    snapshots = [r.pop("feature_values_json") for r in scores.rows]  # shown side by side below, not as JSON
    out.sections.append(scores)
    feat = _section(
        con, "feature row", "precompute", "ml_feature_store",
        "select feature_row_id, player_id, player_name, game_date, game_id, feature_source_max_date, "
        "features_computed_at, feature_quality_score, missing_features, is_stale, stale_reason "
        "from precompute.ml_feature_store where feature_row_id = ?", [p.get("feature_row_id")])
    out.sections.append(feat)
    if not scores.missing_relation and scores.rows and not feat.missing_relation:
        # the scoring run behind the merged prediction (else the latest run)
        i = next((i for i, r in enumerate(scores.rows) if r["prediction_run_id"] == p.get("prediction_run_id")), 0)
        out.sections.append(_feature_comparison(con, settings, p, scores.rows[i], snapshots[i], out.warnings))
    max_date = feat.rows[0]["feature_source_max_date"] if feat.rows else None
    games = _section(
        con, f"staged box scores the features read (last {n_games} games up to the feature source date)",
        "staging", "stg_nba__player_game_logs",
        "select game_id, game_date, points, minutes, source_payload_id, scrape_run_id, scraped_at "
        "from staging.stg_nba__player_game_logs where player_id = ? and game_date <= coalesce(?, ?::date - 1) "
        "order by game_date desc limit ?", [p["player_id"], max_date, p["game_date"], n_games])
    out.sections.append(games)
    lines = _section(
        con, "staged prop lines behind the consensus line", "analytics", "player_prop_lines_resolved",
        "select prop_line_id, bookmaker_key, line_points, over_price, under_price, is_main_line, captured_at, "
        "source_payload_id, scraped_at from analytics.player_prop_lines_resolved where player_id = ? "
        "and game_date = ? order by bookmaker_key, line_points", [p["player_id"], p["game_date"]])
    out.sections.append(lines)
    staged = [r for sec in (games, lines) for r in sec.rows if r.get("source_payload_id")]
    payload_ids = sorted({r["source_payload_id"] for r in staged})
    # a staged row carries its payload's scraped_at: only those partitions are read
    landed = [r["scraped_at"] for r in staged if r.get("scraped_at") is not None]
    payloads = _section(
        con, "raw payloads", "raw", "landed_payloads",
        "select payload_id, source, endpoint, params_json, scraped_at, sha256, byte_size, origin, scrape_run_id, "
        "correlation_id from raw.landed_payloads where scraped_at between ? and ? "
        "and payload_id in (select unnest(?::varchar[])) order by scraped_at",
        [min(landed, default=None), max(landed, default=None), payload_ids])
    out.sections.append(payloads)
    run_ids = sorted({r["scrape_run_id"] for r in payloads.rows})
    out.sections.append(_section(
        con, "scrape runs", "raw", "scrape_runs",
        "select scrape_run_id, correlation_id, command, transport, started_at, finished_at, status "
        "from raw.scrape_runs where scrape_run_id in (select unnest(?::varchar[])) order by started_at",
        [run_ids]))
    return out


def _feature_comparison(con: Warehouse, settings: Settings, pred: dict[str, Any], score: dict[str, Any],
                        snapshot: str | None, warnings: list[str]) -> TraceSection:
    """The feature values as scored (the snapshot stored with the scoring run) beside today's
    feature row; a warning when they differ (the store was rebuilt since scoring)."""
    from python_jobs.ml.features import feature_snapshot, load_feature_spec, snapshot_hash
    from python_jobs.ml.training import FEATURE_STORE

    sec = TraceSection("feature values: as scored vs today", "raw.prediction_scores + precompute.ml_feature_store")
    scored = json.loads(snapshot) if snapshot else None
    # the features the model saw (the snapshot's names), else the current spec's
    names = list(scored) if scored is not None else load_feature_spec(settings.home).names
    present = {c for (c,) in con.fetchall("select column_name from information_schema.columns "
                                          "where table_schema = 'precompute' and table_name = 'ml_feature_store'")}
    cols = ", ".join(f'"{c}"' for c in names if c in present and _IDENT.match(c))  # catalog-checked identifiers
    feature_row_id = score.get("feature_row_id") or pred.get("feature_row_id")
    today_rows = con.fetch_dicts(f"select {cols} from {FEATURE_STORE} where game_date = ? and feature_row_id = ?",
                                 [pred["game_date"], feature_row_id]) if cols else []
    today_snapshot = feature_snapshot(today_rows[0], names) if today_rows else None
    today = json.loads(today_snapshot) if today_snapshot else None
    if scored is None:
        warnings.append(f"run {score['prediction_run_id']} stored no feature snapshot (scored before snapshots "
                        "were recorded): today's values are shown alone")
    for name in names:
        then = scored.get(name) if scored is not None else None
        now = today.get(name) if today is not None else None
        sec.rows.append({"feature": name, "as_scored": then, "today": now,
                         "changed": None if scored is None or today is None else then != now})
    if today is None:
        warnings.append(f"feature row {feature_row_id} is no longer in {FEATURE_STORE}")
    elif scored is not None and snapshot_hash(today_snapshot) != score.get("feature_values_hash"):
        changed = [r["feature"] for r in sec.rows if r["changed"]]
        warnings.append(f"today's feature row differs from the one scored at {score['scored_at']} "
                        f"({len(changed)} feature(s) changed: {', '.join(changed)})")
    return sec

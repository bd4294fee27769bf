"""``nba-props trace``: prediction -> feature row and its sources -> staged rows -> raw payloads
and scrape runs. Each section says which relation it read; a relation that is not built in this
warehouse is reported as such (the chain stops there)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from python_jobs.config import Settings
from python_jobs.ops.counts import relation_exists
from python_jobs.ops.guard import short_write
from python_jobs.warehouse.base import Warehouse
from python_jobs.warehouse.partitions import floor_date


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
    prediction_id: str
    sections: list[TraceSection] = field(default_factory=list)


def _q(con: Warehouse, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    return con.fetch_dicts(sql, params)


def _section(con, title: str, schema: str, table: str, sql: str, params: list[Any]) -> TraceSection:
    sec = TraceSection(title, f"{schema}.{table}")
    if not relation_exists(con, schema, table):
        sec.missing_relation = True
        return sec
    sec.rows = _q(con, sql, params)
    return sec


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
    out = Trace(prediction_id)
    with short_write(settings) as con:
        # the id names no date: find its partition (every partition, two narrow columns), then
        # read the row from that partition only
        game_date = (con.scalar("select game_date from predictions.player_prop_predictions "
                                "where game_date >= ? and prediction_id = ?",
                                [floor_date(settings.home), prediction_id])
                     if relation_exists(con, "predictions", "player_prop_predictions") else None)
        pred = _section(con, "prediction", "predictions", "player_prop_predictions",
                        "select * from predictions.player_prop_predictions where game_date = ? and prediction_id = ?",
                        [game_date, prediction_id])
        out.sections.append(pred)
        if pred.missing_relation:
            return out
        if not pred.rows:
            raise TraceNotFound(f"no prediction with id {prediction_id!r}")
        p = pred.rows[0]
        out.sections.append(_section(
            con, "scoring run (raw)", "raw", "prediction_scores",
            "select prediction_run_id, correlation_id, system_id, model_version, predicted_points, line_points, "
            "recommendation, scored_at from raw.prediction_scores where system_id = ? and player_id = ? "
            "and game_date = ? and line_source = ? order by scored_at desc",
            [p["system_id"], p["player_id"], p["game_date"], p["line_source"]]))
        feat = _section(
            con, "feature row", "precompute", "ml_feature_store",
            "select feature_row_id, player_id, player_name, game_date, game_id, feature_source_max_date, "
            "features_computed_at, feature_quality_score, missing_features, is_stale, stale_reason "
            "from precompute.ml_feature_store where feature_row_id = ?", [p.get("feature_row_id")])
        out.sections.append(feat)
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
            "source_payload_id, scraped_at from analytics.player_prop_lines_resolved where player_id = ? and game_date = ? "
            "order by bookmaker_key, line_points", [p["player_id"], p["game_date"]])
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

"""The data behind each page: plain dicts for the templates, built from the warehouse.

Every builder copes with missing relations and empty results by returning ``notes`` (explanations
shown on the page) instead of raising; errors that are not "this table is not there yet" propagate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pandas as pd

from python_jobs.report import charts, stats
from python_jobs.report.backtest import Backtest
from python_jobs.report.warehouse import RELATIONS, Warehouse, quote
from python_jobs.warehouse.partitions import landing_lead, run_window_start

PLAYER_HISTORY_GAMES = 15
PERFORMANCE_WINDOW_DAYS = 3650
COVERAGE_SLO = 0.95
PREDICTION_COLUMNS = [
    "prediction_id", "system_id", "model_version", "player_id", "game_date", "game_id", "line_source",
    "line_points", "line_bookmakers", "over_price", "under_price", "predicted_points", "prediction_std", "edge",
    "confidence", "recommendation", "feature_row_id", "feature_quality_score", "features_computed_at",
    "scored_at", "best_book", "best_price",
]
FEATURE_COLUMNS = ["feature_row_id", "player_id", "player_name", "game_date", "team_id", "opponent_team_id",
                   "is_home", "feature_quality_score", "is_stale", "stale_reason", "missing_features"]
RESULT_CANDIDATES = ("result", "bet_result", "grade", "outcome", "grading_result")


@dataclass
class Table:
    """A rendered table: headers, rows of display strings, optional per-cell sort values/classes."""

    headers: list[str]
    rows: list[list[str]]
    caption: str = ""


@dataclass
class Plot:
    div_id: str
    html: str


@dataclass
class Section:
    title: str
    notes: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    plots: list[Plot] = field(default_factory=list)
    intro: str = ""
    links: list[tuple[str, str]] = field(default_factory=list)   # (relative href, text)


def missing(wh: Warehouse, key: str) -> str:
    schema, table = RELATIONS[key]
    where = "the warehouse file does not exist yet" if not wh.database_found else "it does not exist in this warehouse yet"
    return f"`{schema}.{table}` is not available: {where}."


def fmt(value: object, kind: str = "") -> str:
    if value is None or value is pd.NA or value is pd.NaT:
        return "–"
    if isinstance(value, float) and math.isnan(value):
        return "–"
    if kind == "pct":
        return f"{float(value):.1%}"
    if kind == "signed":
        return f"{float(value):+.1f}"
    if kind == "price":
        v = int(value)
        return f"{v:+d}"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "1":
        return f"{float(value):.1f}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}" if abs(value) < 100 else f"{value:,.1f}"
    if isinstance(value, datetime | pd.Timestamp):
        ts = pd.Timestamp(value)
        if ts.tzinfo is not None:
            return ts.tz_convert("UTC").strftime("%Y-%m-%d %H:%M UTC")
        return ts.date().isoformat() if ts == ts.normalize() else ts.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def frame_table(df: pd.DataFrame, formats: dict[str, str] | None = None, caption: str = "",
                max_rows: int = 200) -> Table:
    formats = formats or {}
    shown = df.head(max_rows)
    rows = [[fmt(v, formats.get(c, "")) for c, v in zip(shown.columns, r, strict=True)]
            for r in shown.itertuples(index=False, name=None)]
    if len(df) > max_rows:
        caption = (caption + f" (first {max_rows} of {len(df):,} rows)").strip()
    return Table(headers=[str(c) for c in df.columns], rows=rows, caption=caption)


def _na(v: object) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v))


# ---------------------------------------------------------------------------------------------
# Today
# ---------------------------------------------------------------------------------------------
def team_codes(wh: Warehouse) -> dict[int, str]:
    if not wh.has_columns("teams", "team_id", "team_tricode"):
        return {}
    df = wh.select("teams", ["team_id", "team_tricode"])
    return {int(t): str(c) for t, c in zip(df["team_id"], df["team_tricode"], strict=True) if not _na(t)}


def player_names(wh: Warehouse, player_ids: list[int], report_date: date) -> dict[int, str]:
    names: dict[int, str] = {}
    if not player_ids:
        return names
    for key in ("features", "player_games"):
        if wh.has_columns(key, "player_id", "player_name", "game_date"):
            df = wh.query(
                f"select player_id, arg_max(player_name, game_date) as player_name from {wh.name(key)} "
                "where list_contains(?::bigint[], player_id) and game_date <= ? group by player_id",
                [player_ids, report_date])
            for pid, name in zip(df["player_id"], df["player_name"], strict=True):
                names.setdefault(int(pid), str(name))
    return names


def load_day_predictions(wh: Warehouse, report_date: date) -> pd.DataFrame:
    preds = wh.select("predictions", PREDICTION_COLUMNS, where="game_date = ?", params=[report_date])
    if preds.empty or not wh.exists("features"):
        for c in FEATURE_COLUMNS:
            if c not in preds.columns:
                preds[c] = None
        return preds
    feats = wh.select("features", FEATURE_COLUMNS, where="game_date = ?", params=[report_date])
    feats = feats.drop(columns=["feature_quality_score", "game_date"])
    if feats["feature_row_id"].notna().any() and preds["feature_row_id"].notna().any():
        merged = preds.merge(feats.drop(columns=["player_id"]), on="feature_row_id", how="left")
    else:
        merged = preds.merge(feats.drop(columns=["feature_row_id"]), on="player_id", how="left")
    return merged


def diagnose_empty_day(wh: Warehouse, report_date: date) -> list[str]:
    """Why a date has no predictions, in words (no games, no lines, late sources, rejected rows)."""
    notes: list[str] = []
    if not wh.exists("predictions"):
        notes.append(missing(wh, "predictions") + " Run the daily pipeline (`nba-props run-day --date "
                     f"{report_date}` or `nba-props demo`) to score this date.")
    n_games = None
    if wh.has_columns("schedule", "game_date", "game_id"):
        n_games = int(wh.query(f"select count(distinct game_id) from {wh.name('schedule')} where game_date = ?",
                               [report_date]).iloc[0, 0])
    elif wh.has_columns("features", "game_date", "game_id"):
        n_games = int(wh.query(f"select count(distinct game_id) from {wh.name('features')} where game_date = ?",
                               [report_date]).iloc[0, 0])
    if n_games == 0:
        notes.append(f"No NBA games are scheduled on {report_date} in the warehouse: nothing to predict.")
    elif n_games:
        notes.append(f"{n_games} game(s) are scheduled on {report_date}.")
    if wh.has_columns("consensus_lines", "game_date"):
        n_lines = int(wh.query(f"select count(*) from {wh.name('consensus_lines')} where game_date = ?",
                               [report_date]).iloc[0, 0])
        notes.append(f"No player-points lines were captured for {report_date}." if n_lines == 0
                     else f"{n_lines} player(s) have a consensus line on {report_date}.")
    if wh.has_columns("source_waits", "game_date", "source_name", "status"):
        waits = wh.select("source_waits", ["source_name", "status", "expected_at", "arrived_at"],
                          where="game_date = ?", params=[report_date])
        miss = sorted(set(waits.loc[waits["status"].eq("missing"), "source_name"]))
        if len(waits) and len(miss) == waits["source_name"].nunique():
            notes.append("All sources were late or missing when the morning run gave up: " + ", ".join(miss) + ".")
        elif miss:
            notes.append("Sources missing when the morning run ended: " + ", ".join(miss) + ".")
    if wh.has_columns("prediction_rejects", "game_date", "reason_code"):
        rej = wh.query(f"select reason_code, count(*) as n from {wh.name('prediction_rejects')} "
                       "where game_date = ? group by reason_code order by n desc", [report_date])
        if len(rej):
            notes.append("Feature rows refused before scoring: " + ", ".join(
                f"{r} ({n})" for r, n in zip(rej["reason_code"], rej["n"], strict=True)) + ".")
    return notes


def build_today(wh: Warehouse, report_date: date) -> dict:
    ctx: dict = {"rows": [], "notes": [], "summary": {}, "systems": [], "player_ids": []}
    if not wh.exists("predictions"):
        ctx["notes"] = diagnose_empty_day(wh, report_date)
        return ctx
    df = load_day_predictions(wh, report_date)
    if df.empty:
        ctx["notes"] = [f"No predictions were made for {report_date}."] + diagnose_empty_day(wh, report_date)
        return ctx
    codes = team_codes(wh)
    ids = sorted({int(p) for p in df["player_id"]})
    names = player_names(wh, ids, report_date)
    rec_order = {"OVER": 0, "UNDER": 0, "PASS": 1, "NO_LINE": 2}
    df["_order"] = df["recommendation"].map(rec_order).fillna(3)
    df["_conf"] = pd.to_numeric(df["confidence"], errors="coerce").fillna(-1)
    df = df.sort_values(["_order", "_conf", "player_id"], ascending=[True, False, True])
    with_line = set()
    rows = []
    for r in df.to_dict("records"):
        pid = int(r["player_id"])
        has_line = not _na(r["line_points"])
        if has_line:
            with_line.add(pid)
        name = names.get(pid) or (r.get("player_name") if not _na(r.get("player_name")) else f"player {pid}")
        team = codes.get(int(r["team_id"]), "") if not _na(r.get("team_id")) else ""
        opp = codes.get(int(r["opponent_team_id"]), "") if not _na(r.get("opponent_team_id")) else ""
        matchup = f"{team} {'vs' if r.get('is_home') is True else '@' if r.get('is_home') is False else '–'} {opp}".strip() if team or opp else "–"
        stale = bool(r.get("is_stale")) if not _na(r.get("is_stale")) else False
        missing_f = r.get("missing_features") if not _na(r.get("missing_features")) else ""
        rows.append({
            "player_id": pid, "player_name": name, "has_page": has_line, "matchup": matchup,
            "line": fmt(r["line_points"], "1") if has_line else "–", "line_value": r["line_points"] if has_line else "",
            "books": r["line_bookmakers"] if not _na(r["line_bookmakers"]) else "",
            "over_price": fmt(r["over_price"], "price") if not _na(r["over_price"]) else "–",
            "under_price": fmt(r["under_price"], "price") if not _na(r["under_price"]) else "–",
            "predicted": fmt(r["predicted_points"], "1"), "predicted_value": r["predicted_points"],
            "std": fmt(r["prediction_std"], "1"),
            "edge": fmt(r["edge"], "signed") if not _na(r["edge"]) else "–",
            "edge_value": "" if _na(r["edge"]) else r["edge"],
            "confidence": fmt(r["confidence"], "1"), "confidence_value": "" if _na(r["confidence"]) else r["confidence"],
            "recommendation": r["recommendation"], "system_id": r["system_id"],
            "best_book": "" if _na(r.get("best_book")) else str(r["best_book"]),
            "best_price": None if _na(r.get("best_price")) else int(r["best_price"]),
            "model_version": r["model_version"] if not _na(r["model_version"]) else "",
            "quality": fmt(r["feature_quality_score"], "int"),
            "quality_value": "" if _na(r["feature_quality_score"]) else r["feature_quality_score"],
            "is_stale": stale,
            "stale_reason": (r.get("stale_reason") or "") if not _na(r.get("stale_reason")) else "",
            "missing_features": missing_f,
        })
    counts = df["recommendation"].value_counts().to_dict()
    systems = sorted(df["system_id"].dropna().unique().tolist())
    ctx.update(rows=player_rows(rows, systems), systems=systems, player_ids=sorted(with_line), names=names)
    ctx["summary"] = {
        "predictions": len(df), "players": df["player_id"].nunique(), "players_with_line": len(with_line),
        "over": int(counts.get("OVER", 0)), "under": int(counts.get("UNDER", 0)),
        "pass": int(counts.get("PASS", 0)), "no_line": int(counts.get("NO_LINE", 0)),
        "stale": int(sum(1 for r in rows if r["is_stale"])),
    }
    if not with_line:
        ctx["notes"].append(f"No player had a line on {report_date}: every prediction is NO_LINE.")
    return ctx


BET_SIDES = ("OVER", "UNDER")


def agreement(recs: dict[str, str], systems: list[str]) -> tuple[str, str, int]:
    """(pick, agreement text, systems agreeing) of one player's recommendations by system.

    The pick is the side every betting system takes (OVER/UNDER), SPLIT when some say OVER and
    others UNDER, PASS when none bets, NO_LINE without a line."""
    sides = [recs[s] for s in systems if recs.get(s) in BET_SIDES]
    n = sum(1 for s in systems if s in recs)
    if all(r == "NO_LINE" for r in recs.values()):
        return "NO_LINE", "no line", 0
    if not sides:
        return "PASS", f"0/{n} bet", 0
    if len(set(sides)) > 1:
        return "SPLIT", " / ".join(f"{sides.count(x)} {x}" for x in BET_SIDES), 0
    return sides[0], f"{len(sides)}/{n} {sides[0]}", len(sides)


def player_rows(rows: list[dict], systems: list[str]) -> list[dict]:
    """The picks table: one row per player (their line row; NO_LINE only when no line), each
    system's prediction side by side, the agreement, and the best price and book of the pick."""
    by_player: dict[int, list[dict]] = {}
    for r in rows:
        by_player.setdefault(r["player_id"], []).append(r)
    out = []
    for preds in by_player.values():
        lined = [r for r in preds if r["recommendation"] != "NO_LINE"] or preds
        recs = {r["system_id"]: r["recommendation"] for r in lined}
        pick, text, n_agree = agreement(recs, systems)
        backing = [r for r in lined if r["recommendation"] == pick]
        priced = [r for r in backing if r["best_price"] is not None]
        best = max(priced, key=lambda r: r["best_price"]) if priced else None
        conf = [r["confidence_value"] for r in (backing or lined) if r["confidence_value"] != ""]
        first = lined[0]
        out.append({
            **{k: first[k] for k in ("player_id", "player_name", "has_page", "matchup", "line", "line_value", "books",
                                     "over_price", "under_price", "quality", "quality_value", "is_stale",
                                     "stale_reason", "missing_features")},
            "pick": pick, "agreement": text, "n_agree": n_agree,
            "recs": " ".join(f"{r['system_id']}:{r['recommendation']}" for r in lined),
            "by_system": [next(({"predicted": r["predicted"], "recommendation": r["recommendation"],
                                 "confidence": r["confidence"], "edge": r["edge"], "model_version": r["model_version"]}
                                for r in lined if r["system_id"] == sid), None) for sid in systems],
            "best_price": fmt(best["best_price"], "price") if best else "–",
            "best_price_value": best["best_price"] if best else "",
            "best_book": best["best_book"] if best else "",
            "confidence": fmt(max(conf), "1") if conf else "–", "confidence_value": max(conf) if conf else "",
        })
    order = {"OVER": 0, "UNDER": 0, "SPLIT": 1, "PASS": 2, "NO_LINE": 3}
    out.sort(key=lambda r: (order[r["pick"]], -r["n_agree"],
                            -(r["confidence_value"] if r["confidence_value"] != "" else -1), r["player_id"]))
    return out


# ---------------------------------------------------------------------------------------------
# Players
# ---------------------------------------------------------------------------------------------
def build_players(wh: Warehouse, report_date: date, player_ids: list[int], names: dict[int, str]) -> list[dict]:
    """One context per player with a line on the date: recent games vs lines, predictions vs actuals."""
    if not player_ids:
        return []
    start = report_date - timedelta(days=365)
    games = pd.DataFrame(columns=["player_id", "game_date", "points", "minutes", "opponent_tricode", "is_home"])
    if wh.has_columns("player_games", "player_id", "game_date", "points"):
        cols = [c for c in ["player_id", "game_date", "game_id", "points", "minutes", "opponent_tricode", "is_home"]
                if c in wh.columns("player_games")]
        games = wh.query(
            f"select {', '.join(quote(c) for c in cols)} from {wh.name('player_games')} "
            "where list_contains(?::bigint[], player_id) and game_date < ? and game_date >= ? "
            "qualify row_number() over (partition by player_id order by game_date desc) <= ?",
            [player_ids, report_date, start, PLAYER_HISTORY_GAMES])
        for c in ["minutes", "opponent_tricode", "is_home"]:
            if c not in games.columns:
                games[c] = None
    lines = pd.DataFrame(columns=["player_id", "game_date", "line_points"])
    if wh.has_columns("consensus_lines", "player_id", "game_date", "consensus_line_points"):
        lines = wh.query(
            f"select player_id, game_date, consensus_line_points as line_points from {wh.name('consensus_lines')} "
            "where list_contains(?::bigint[], player_id) and game_date <= ? and game_date >= ?",
            [player_ids, report_date, start])
    preds = wh.query(
        f"select system_id, player_id, game_date, predicted_points, line_points, edge, recommendation "
        f"from {wh.name('predictions')} where list_contains(?::bigint[], player_id) and game_date <= ? "
        "and game_date >= ?", [player_ids, report_date, start]) if wh.has_columns(
        "predictions", "system_id", "player_id", "game_date", "predicted_points", "line_points", "edge",
        "recommendation") else pd.DataFrame(columns=["system_id", "player_id", "game_date", "predicted_points",
                                                     "line_points", "edge", "recommendation"])
    for df in (games, lines, preds):
        if len(df):
            df["game_date"] = pd.to_datetime(df["game_date"]).dt.date
    upcoming = upcoming_opponents(wh, report_date, player_ids)
    history = line_history(wh, report_date, player_ids)
    games_by = {k: g for k, g in games.groupby("player_id")}
    lines_by = {k: g for k, g in lines.groupby("player_id")}
    preds_by = {k: g for k, g in preds.groupby("player_id")}
    systems = sorted(preds["system_id"].dropna().unique().tolist())
    out = []
    for pid in player_ids:
        name = names.get(pid, f"player {pid}")
        g = games_by.get(pid, games.iloc[0:0]).sort_values("game_date")
        ln = lines_by.get(pid, lines.iloc[0:0])[["game_date", "line_points"]]
        pr = preds_by.get(pid, preds.iloc[0:0])
        # the report date itself (upcoming) shows the line and the predictions without an actual
        dates = sorted(set(g["game_date"]) | {report_date})
        frame = pd.DataFrame({"game_date": dates}).merge(g, on="game_date", how="left").merge(
            ln, on="game_date", how="left")
        pr_recent = pr[pr["game_date"].isin(dates)]
        rows = []
        for r in frame.sort_values("game_date", ascending=False).to_dict("records"):
            day_preds = pr_recent[pr_recent["game_date"] == r["game_date"]]
            pts, line = r.get("points"), r.get("line_points")
            vs = "–"
            if not _na(pts) and not _na(line):
                vs = "over" if pts > line else "under" if pts < line else "push"
            per_system = []
            for s in systems:
                sp = day_preds[day_preds["system_id"] == s]
                per_system.append("–" if sp.empty else
                                  f"{fmt(sp['predicted_points'].iloc[0], '1')} ({sp['recommendation'].iloc[0]})")
            if r["game_date"] == report_date and _na(r.get("opponent_tricode")) and pid in upcoming:
                r["opponent_tricode"], r["is_home"] = upcoming[pid]  # today's game: no box score yet
            rows.append({
                "date": r["game_date"].isoformat(), "is_today": r["game_date"] == report_date,
                "opponent": ("vs " if r.get("is_home") is True else "@ " if r.get("is_home") is False else "")
                + (str(r.get("opponent_tricode")) if not _na(r.get("opponent_tricode")) else ""),
                "minutes": fmt(r.get("minutes"), "1"), "points": fmt(r.get("points"), "int") if not _na(r.get("points")) else "–",
                "line": fmt(line, "1"), "vs_line": vs, "predictions": per_system,
            })
        plot_games = frame.rename(columns={"points": "points"})
        fig = charts.player_chart(plot_games, pr_recent, name)
        lined = frame.dropna(subset=["points", "line_points"])
        summary = {
            "games": int(frame["points"].notna().sum()),
            "over": int((lined["points"] > lined["line_points"]).sum()),
            "under": int((lined["points"] < lined["line_points"]).sum()),
            "push": int((lined["points"] == lined["line_points"]).sum()),
            "avg_points": fmt(float(frame["points"].dropna().astype(float).mean())) if frame["points"].notna().any() else "–",
        }
        out.append({"player_id": pid, "player_name": name, "systems": systems, "rows": rows, "summary": summary,
                    "line_history": history.get(pid),
                    "plot": Plot(div_id=f"player-{pid}", html=charts.to_div(fig, f"player-{pid}"))})
    return out


def upcoming_opponents(wh: Warehouse, report_date: date, player_ids: list[int]) -> dict[int, tuple[str, object]]:
    """player_id -> (opponent tricode, is_home) of the report date's game, from the feature rows."""
    if not wh.has_columns("features", "player_id", "game_date", "opponent_team_id", "is_home"):
        return {}
    codes = team_codes(wh)
    df = wh.query(f"select player_id, any_value(opponent_team_id) as opp, any_value(is_home) as is_home "
                  f"from {wh.name('features')} where game_date = ? and list_contains(?::bigint[], player_id) "
                  "group by player_id", [report_date, player_ids])
    return {int(pid): (codes.get(int(opp), ""), None if _na(home) else bool(home))
            for pid, opp, home in zip(df["player_id"], df["opp"], df["is_home"], strict=True) if not _na(opp)}


def line_history(wh: Warehouse, report_date: date, player_ids: list[int]) -> dict[int, Table]:
    """player_id -> the main lines of every book at each snapshot of the report date, for players
    whose lines were captured more than once (how the line moved during the day)."""
    if not wh.has_columns("prop_lines", "player_id", "game_date", "bookmaker_key", "line_points", "captured_at",
                          "is_main_line"):
        return {}
    df = wh.query(
        "select player_id, captured_at, bookmaker_key as book, line_points as line, over_price, under_price "
        f"from {wh.name('prop_lines')} where game_date = ? and is_main_line and player_id in ("
        f"  select player_id from {wh.name('prop_lines')} where game_date = ? and list_contains(?::bigint[], player_id) "
        "  group by player_id having count(distinct captured_at) > 1) "
        "order by player_id, captured_at, book", [report_date, report_date, player_ids])
    return {int(pid): frame_table(g.drop(columns=["player_id"]), {"line": "1", "over_price": "price",
                                                                   "under_price": "price"})
            for pid, g in df.groupby("player_id")}


# ---------------------------------------------------------------------------------------------
# Performance
# ---------------------------------------------------------------------------------------------
def graded_frame(wh: Warehouse, report_date: date) -> tuple[pd.DataFrame | None, list[str]]:
    """Graded (and void) predictions up to the report date from ``grading.prediction_accuracy``
    (None + notes when unavailable). Pending rows (games not finished) are left out."""
    if not wh.exists("accuracy"):
        return None, [missing(wh, "accuracy") + " Grading runs the morning after the games (phase 6)."]
    needed = ("prediction_id", "system_id", "game_date", "recommendation", "line_points", "edge", "confidence",
              "predicted_points", "actual_points")
    absent = [c for c in needed if c not in wh.columns("accuracy")]
    if absent:
        return None, [f"`grading.prediction_accuracy` lacks the columns {', '.join(absent)}: cannot show the "
                      "graded history."]
    result_col = wh.first_column("accuracy", RESULT_CANDIDATES)
    wanted = [*needed, "player_id", "over_price", "under_price", "p_over", "lean_side", "lean_result",
              "profit_units", "grade_status"]
    where = "game_date <= ? and game_date >= ?"
    if wh.has_columns("accuracy", "grade_status"):
        where += " and grade_status in ('graded', 'void')"
    else:
        where += " and actual_points is not null"
    df = wh.select("accuracy", [*wanted, *([result_col] if result_col else [])], where=where,
                   params=[report_date, report_date - timedelta(days=PERFORMANCE_WINDOW_DAYS)],
                   order_by="game_date")
    for optional in ("lean_side", "lean_result", "profit_units"):
        if optional not in wh.columns("accuracy"):
            df = df.drop(columns=[optional])
    notes: list[str] = []
    if df.empty:
        notes.append(f"No graded predictions up to {report_date} yet: grading needs finished games.")
        return None, notes
    df["game_date"] = pd.to_datetime(df["game_date"]).dt.date
    if result_col is None:
        notes.append("`grading.prediction_accuracy` has no result column: bet results derived from actual vs line.")
        lean = stats.with_lean(df.assign(result=None).drop(columns=["lean_result"], errors="ignore"))
        bet = df["recommendation"].isin(["OVER", "UNDER"]) & lean["lean_side"].eq(df["recommendation"])
        df["result"] = lean["lean_result"].where(bet)
    elif result_col != "result":
        df = df.rename(columns={result_col: "result"})
    return df, notes


def performance_sections(graded: pd.DataFrame, prefix: str, label: str) -> list[Section]:
    sections: list[Section] = []
    summary = stats.by_system(graded)
    s = Section(title=f"Summary by system ({label})")
    s.tables.append(frame_table(summary, {
        "hit_rate": "pct", "wilson_low": "pct", "wilson_high": "pct", "roi": "pct", "n_predictions": "int",
        "n_with_line": "int", "n_bets": "int", "hits": "int", "misses": "int", "pushes": "int", "voids": "int"},
        caption="Bets are OVER/UNDER recommendations; hit rate = hits / (hits + misses); ROI per 1-unit bet at "
                "the recorded price (−110 when missing); MAE over graded predictions with a line."))
    s.plots.append(Plot(f"{prefix}-mae", charts.to_div(charts.grouped_bars(
        summary, "system_id", [("mae_model", "model MAE"), ("mae_line", "line MAE")],
        "Mean absolute error: model vs line (points)"), f"{prefix}-mae")))
    sections.append(s)
    cum = stats.cumulative_hit_rate(graded)
    s = Section(title=f"Hit rate over time ({label})")
    if cum.empty:
        s.notes.append("No decided bets (hits or misses) yet.")
    else:
        s.plots.append(Plot(f"{prefix}-hitrate", charts.to_div(charts.hit_rate_over_time(
            cum, "Cumulative hit rate of bets with Wilson 95% band"), f"{prefix}-hitrate")))
        s.plots.append(Plot(f"{prefix}-roi", charts.to_div(charts.grouped_bars(
            summary, "system_id", [("roi", "ROI per bet")], "ROI at the recorded odds", ".0%"), f"{prefix}-roi")))
    sections.append(s)
    buckets = stats.by_edge_bucket(graded)
    s = Section(title=f"Results by edge bucket ({label})",
                intro="Every prediction with a line, taking its lean side, the side its P(over) favours (not only the bets).")
    if buckets.empty or buckets["decided"].sum() == 0:
        s.notes.append("No graded predictions with a line yet.")
    else:
        s.plots.append(Plot(f"{prefix}-edge", charts.to_div(charts.edge_bucket_chart(
            buckets, "Hit rate by |edge| with Wilson 95% interval"), f"{prefix}-edge")))
        s.tables.append(frame_table(buckets, {"hit_rate": "pct", "wilson_low": "pct", "wilson_high": "pct",
                                              "roi": "pct"}))
    sections.append(s)
    cal = stats.calibration(graded)
    s = Section(title=f"Calibration ({label})",
                intro="Confidence is the calibrated probability (×100) that the lean side (the side P(over) favours) wins.")
    if cal.empty:
        s.notes.append("No decided predictions with a line to calibrate yet.")
    else:
        s.plots.append(Plot(f"{prefix}-cal", charts.to_div(charts.calibration_chart(
            cal, "Calibration: stated vs observed win rate"), f"{prefix}-cal")))
        s.tables.append(frame_table(cal, {"mean_confidence": "pct", "observed": "pct"}))
    sections.append(s)
    return sections


def backtest_sections(bt: Backtest | None, note: str | None) -> list[Section]:
    s = Section(title="Walk-forward backtest")
    if bt is None:
        s.notes.append(note or "No backtest file: run `nba-props backtest --start D1 --end D2 --output "
                               "warehouse/backtests/backtest.json` (the report picks the newest file there, else the "
                               "bundled docs/backtest_2025.json) or pass `--backtest FILE.json`.")
        return [s]
    s.intro = (f"From `{bt.path.name}`: every date scored by models trained only on earlier games"
               + (" · " + ", ".join(f"{k}: {v}" for k, v in bt.meta.items()) if bt.meta else "") + ".")
    pct = {c: "pct" for c in ("hit_rate", "wilson_low", "wilson_high", "roi", "lean_hit_rate", "lean_wilson_low",
                              "lean_wilson_high")}
    counts = {c: "int" for c in ("n_predictions", "n_bets", "hits", "misses", "pushes", "lean_hits", "lean_misses")}
    overall = bt.group("overall")
    shown = ["system_id", "n_predictions", "n_bets", "hits", "misses", "pushes", "hit_rate", "wilson_low",
             "wilson_high", "roi", "mae_model", "mae_line", "lean_hit_rate"]
    s.tables.append(frame_table(overall[shown], {**pct, **counts}, caption="Bets: hit rate of OVER/UNDER picks; "
                                "lean_hit_rate: the lean side (the side p_over favours) on every prediction with a line."))
    probability = ["system_id", "brier", "brier_market", "log_loss", "log_loss_market", "ece"]
    if overall[probability[1:]].notna().any().any():
        s.tables.append(frame_table(overall[probability], {"ece": "pct"}, caption=(
            "P(over): Brier score and log loss of the system's calibrated probability next to the no-vig "
            "market's on the same rows (lower is better); ECE = expected calibration error of the stated "
            "confidence (the reliability diagram below).")))
    if overall[["mae_model", "mae_line"]].notna().any().any():
        s.plots.append(Plot("backtest-mae", charts.to_div(charts.grouped_bars(
            overall, "system_id", [("mae_model", "model MAE"), ("mae_line", "line MAE")],
            "Backtest MAE: model vs line (points)"), "backtest-mae")))
    if overall["roi"].notna().any():
        s.plots.append(Plot("backtest-roi", charts.to_div(charts.grouped_bars(
            overall, "system_id", [("roi", "ROI per bet")], "Backtest ROI at the recorded odds", ".0%"),
            "backtest-roi")))
    buckets = bt.group("edge_bucket").rename(columns={"label": "edge_bucket"})
    if not buckets.empty:
        # the lean side of every lined prediction, as for the graded history's edge buckets
        plot = buckets.assign(hit_rate=buckets["lean_hit_rate"], wilson_low=buckets["lean_wilson_low"],
                              wilson_high=buckets["lean_wilson_high"],
                              decided=buckets["lean_hits"] + buckets["lean_misses"])
        if plot["hit_rate"].notna().any():
            s.plots.append(Plot("backtest-edge", charts.to_div(charts.edge_bucket_chart(
                plot, "Backtest hit rate of the lean side by |edge| (Wilson 95%)"), "backtest-edge")))
        s.tables.append(frame_table(buckets[["system_id", "edge_bucket", "n_predictions", "lean_hits", "lean_misses",
                                             "lean_hit_rate", "lean_wilson_low", "lean_wilson_high", "n_bets",
                                             "hit_rate", "roi"]], {**pct, **counts}, caption="By |edge| bucket"))
    if not bt.calibration.empty:
        s.plots.append(Plot("backtest-cal", charts.to_div(charts.calibration_chart(
            bt.calibration, "Backtest calibration: stated vs observed win rate"), "backtest-cal")))
    return [s]


def build_performance(wh: Warehouse, report_date: date, bt: Backtest | None, bt_note: str | None) -> dict:
    graded, notes = graded_frame(wh, report_date)
    sections: list[Section] = []
    if graded is not None:
        sections.extend(performance_sections(graded, "graded", "graded history"))
    if wh.exists("daily_performance") and wh.has_columns("daily_performance", "game_date"):
        daily = wh.select("daily_performance", wh.columns("daily_performance"), where="game_date <= ?",
                          params=[report_date], order_by="game_date desc")
        s = Section(title="grading.system_daily_performance (latest days)")
        if daily.empty:
            s.notes.append(f"No rows up to {report_date}.")
        else:
            fmts = {c: "pct" for c in daily.columns if c in ("hit_rate", "wilson_low", "wilson_high", "roi")}
            s.tables.append(frame_table(daily, fmts, max_rows=30))
        sections.append(s)
    elif graded is not None:
        notes.append(missing(wh, "daily_performance"))
    sections.extend(backtest_sections(bt, bt_note))
    return {"notes": notes, "sections": sections}


# ---------------------------------------------------------------------------------------------
# Data health
# ---------------------------------------------------------------------------------------------
def health_as_of(wh: Warehouse, report_date: date, now: datetime) -> datetime:
    """The instant the data-health page describes: ``now``, or earlier when runs of later game dates
    exist: the start of the first run of a later date after the last run of a date up to the report
    date. Rows stamped after it (payloads, scrape runs, quarantine, log, alerts) belong to later dates."""
    if not wh.has_columns("pipeline_runs", "game_date", "started_at"):
        return now
    later = wh.query(
        f"select min(started_at) from {wh.name('pipeline_runs')} where game_date > ? and started_at > "
        f"coalesce((select max(started_at) from {wh.name('pipeline_runs')} where game_date <= ?), "
        "'-infinity'::timestamptz)", [report_date, report_date]).iloc[0, 0]
    if _na(later):
        return now
    later = pd.Timestamp(later).to_pydatetime()
    return min(now, later if later.tzinfo else later.replace(tzinfo=now.tzinfo))


def build_health(wh: Warehouse, report_date: date, now: datetime, data_docs: str | None = None) -> dict:
    """Data health as of the report date (``health_as_of``): nothing of a later date is shown.
    ``data_docs``: relative link to the Great Expectations Data Docs of the date, when published."""
    sections: list[Section] = []
    now = health_as_of(wh, report_date, now)

    s = Section(title="Source freshness", intro="Latest payload landed per source and endpoint.")
    if wh.has_columns("landed_payloads", "source", "endpoint", "scraped_at"):
        fresh = wh.query(
            "select source, endpoint, count(*) as payloads, count(duplicate_of_payload_id) as duplicate_payloads, "
            "max(scraped_at) as last_scraped_at, "
            "round(date_diff('minute', max(scraped_at), ?::timestamptz) / 60.0, 1) as hours_since_last "
            f"from {wh.name('landed_payloads')} where scraped_at >= ? and scraped_at < ? "
            "group by all order by source, endpoint",
            [now, now - landing_lead(), now])
        if fresh.empty:
            s.notes.append("No payload has been landed yet.")
        else:
            s.tables.append(frame_table(fresh, {"payloads": "int", "duplicate_payloads": "int"}))
    else:
        s.notes.append(missing(wh, "landed_payloads"))
    if wh.has_columns("scrape_runs", "started_at"):
        runs = wh.select("scrape_runs", ["command", "transport", "status", "started_at", "finished_at", "n_payloads",
                                         "n_records_valid", "n_records_quarantined", "error_class"],
                         where="started_at < ?", params=[now], order_by="started_at desc")
        if len(runs):
            s.tables.append(frame_table(runs, max_rows=10, caption="Latest scrape runs"))
    sections.append(s)

    s = Section(title=f"Late or missing sources on {report_date}")
    if wh.exists("mon_source_arrivals") and wh.has_columns("mon_source_arrivals", "game_date"):
        arr = wh.select("mon_source_arrivals", ["source_name", "is_missing", "is_late", "minutes_after_expected",
                                                "tier", "expected_at", "arrived_at"],
                        where="game_date = ?", params=[report_date], order_by="source_name")
    elif wh.has_columns("source_waits", "game_date"):
        arr = wh.select("source_waits", ["source_name", "status", "tier", "expected_at", "arrived_at"],
                        where="game_date = ?", params=[report_date], order_by="source_name")
    else:
        arr = None
        s.notes.append(missing(wh, "source_waits") + " Source waits are recorded by the daily pipeline run.")
    if arr is not None:
        if arr.empty:
            s.notes.append(f"No source waits recorded for {report_date} (the daily pipeline did not run for it; "
                           "history imports do not wait for sources).")
        else:
            if "is_missing" in arr.columns:
                late = arr["is_missing"].fillna(False).astype(bool) | arr["is_late"].fillna(False).astype(bool)
            else:
                late = arr["status"].eq("missing")
            if bool(late.all()):
                s.notes.append("Every source was late or missing: the day's picks may be incomplete or absent.")
            elif bool(late.any()):
                s.notes.append("Late or missing: " + ", ".join(sorted(arr.loc[late, "source_name"].astype(str))) + ".")
            else:
                s.notes.append("Every source arrived on time.")
            s.tables.append(frame_table(arr))
    sections.append(s)

    s = Section(title="Quarantine", intro="Records and payloads that failed validation, by reason.")
    if wh.has_columns("quarantine", "reason_code", "reason", "quarantined_at"):
        q = wh.query(
            "select source, endpoint, record_kind, reason_code, any_value(reason) as example_reason, count(*) as n, "
            "count(*) filter (where quarantined_at >= ?::timestamptz - interval 1 day) as n_last_24h, "
            "max(quarantined_at) as last_quarantined_at "
            f"from {wh.name('quarantine')} where quarantined_at < ? group by all order by n desc", [now, now])
        if q.empty:
            s.notes.append("Nothing has been quarantined.")
        else:
            by_reason = q.groupby("reason_code", as_index=False)["n"].sum().sort_values("n", ascending=False)
            s.plots.append(Plot("quarantine-reasons", charts.to_div(charts.grouped_bars(
                by_reason, "reason_code", [("n", "records")], "Quarantined records by reason"), "quarantine-reasons")))
            s.tables.append(frame_table(q, {"n": "int", "n_last_24h": "int"}))
    else:
        s.notes.append(missing(wh, "quarantine"))
    sections.append(s)

    s = Section(title="Duplicate checks", intro="Primary keys checked for duplicates by the monitoring models.")
    if wh.exists("mon_duplicates"):
        d = wh.select("mon_duplicates", ["checked_relation", "natural_key", "is_present", "has_duplicates", "n_rows",
                                         "n_duplicate_keys", "n_duplicate_rows", "checked_at"],
                      order_by="checked_relation")
        if d.empty:
            s.notes.append("The duplicate check holds no rows.")
        else:
            bad = d[d["has_duplicates"].fillna(False).astype(bool)]
            s.notes.append("Duplicates found in: " + ", ".join(bad["checked_relation"]) + "." if len(bad)
                           else "No duplicate keys in any checked relation.")
            s.tables.append(frame_table(d, {"n_rows": "int", "n_duplicate_keys": "int", "n_duplicate_rows": "int"}))
    else:
        s.notes.append(missing(wh, "mon_duplicates"))
    if wh.has_columns("predictions", "system_id", "player_id", "game_date", "line_source"):
        since = run_window_start(report_date)  # the dates a daily run can have written
        n_dup = int(wh.query(
            f"select count(*) from (select 1 from {wh.name('predictions')} where game_date between ? and ? "
            "group by system_id, player_id, game_date, line_source having count(*) > 1)",
            [since, report_date]).iloc[0, 0])
        s.notes.append(f"predictions.player_prop_predictions since {since}: {n_dup} duplicated "
                       "(system_id, player_id, game_date, "
                       "line_source) key(s).")
    sections.append(s)

    s = Section(title="Prediction coverage vs the 95% SLO",
                intro="Players predicted against a line / players with a consensus line, per system and date.")
    cov = None
    if wh.has_columns("mon_coverage", "game_date", "coverage_rate"):
        cov = wh.select("mon_coverage", ["game_date", "system_id", "n_players_with_line", "n_players_predicted",
                                         "coverage_rate", "coverage_slo", "meets_slo"],
                        where="game_date <= ? and game_date >= ?",
                        params=[report_date, report_date - timedelta(days=60)], order_by="game_date, system_id")
    if cov is None:
        s.notes.append(missing(wh, "mon_coverage"))
    elif cov.empty:
        s.notes.append(f"No coverage recorded in the 60 days up to {report_date}.")
    else:
        slo = float(cov["coverage_slo"].dropna().iloc[0]) if cov["coverage_slo"].notna().any() else COVERAGE_SLO
        day = cov[pd.to_datetime(cov["game_date"]).dt.date == report_date]
        if day.empty:
            s.notes.append(f"No coverage row for {report_date}.")
        else:
            misses = day[~day["meets_slo"].fillna(False).astype(bool)]
            s.notes.append(f"{report_date}: " + ("SLO met by every system." if misses.empty else
                           "SLO MISSED by " + ", ".join(f"{r} ({v:.1%})" for r, v in zip(
                               misses["system_id"], misses["coverage_rate"], strict=True)) + "."))
        worst = cov.groupby("game_date", as_index=False)["coverage_rate"].min()
        s.plots.append(Plot("coverage", charts.to_div(charts.coverage_chart(worst, "game_date", "coverage_rate", slo),
                                                      "coverage")))
        s.tables.append(frame_table(cov.sort_values(["game_date", "system_id"], ascending=[False, True]),
                                    {"coverage_rate": "pct", "coverage_slo": "pct"}, max_rows=30))
    if wh.exists("coverage") and wh.has_columns("coverage", "game_date"):
        gc = wh.select("coverage", wh.columns("coverage"), where="game_date = ?", params=[report_date])
        if len(gc):
            s.tables.append(frame_table(gc, caption="grading.prediction_coverage"))
    sections.append(s)

    s = Section(title="Feature staleness")
    if wh.has_columns("mon_feature_staleness", "game_date"):
        fs = wh.select("mon_feature_staleness", wh.columns("mon_feature_staleness"), where="game_date = ?",
                       params=[report_date])
        if fs.empty:
            s.notes.append(f"No feature rows for {report_date}.")
        else:
            s.tables.append(frame_table(fs, {"stale_share": "pct"}))
    else:
        s.notes.append(missing(wh, "mon_feature_staleness"))
    sections.append(s)

    s = Section(title="Corrections to landed box scores and lines")
    if wh.has_columns("mon_data_corrections", "game_date", "corrected_field", "bookmaker_key"):
        corr = wh.select("mon_data_corrections", ["game_date", "game_id", "player_name", "corrected_entity",
                                                  "corrected_field", "bookmaker_key", "old_value", "new_value",
                                                  "old_payload_id", "new_payload_id", "corrected_at"],
                         where="game_date <= ? and corrected_at < ?", params=[report_date, now],
                         order_by="corrected_at desc")
        if corr.empty:
            s.notes.append("No landed box-score value or prop line was changed by a later payload.")
        else:
            s.notes.append("A box-score correction changed the grading of its date: re-grade it with "
                           "`nba-props grade --date D`. A line correction changed past consensus lines and "
                           "line features; graded picks keep the line they were made against.")
            s.tables.append(frame_table(corr, {}))
    else:
        s.notes.append(missing(wh, "mon_data_corrections"))
    sections.append(s)

    s = Section(title="Last run of each phase")
    if wh.exists("mon_phase_completion") and wh.has_columns("mon_phase_completion", "game_date"):
        pc = wh.select("mon_phase_completion", ["phase", "completion_status", "row_count", "recorded_by",
                                                "last_step_status", "recorded_at", "last_step_finished_at", "run_id"],
                       where="game_date = ?", params=[report_date], order_by="phase")
        if pc.empty:
            s.notes.append(f"No phase completion recorded for {report_date}.")
        else:
            s.tables.append(frame_table(pc, {"row_count": "int"}, caption=f"Phase completion for {report_date}"))
    if wh.has_columns("execution_log", "phase", "status", "logged_at", "run_id"):
        log = wh.query(
            "with last_run as (select phase, arg_max(run_id, logged_at) as run_id, max(logged_at) as last_logged_at "
            f"from {wh.name('execution_log')} where logged_at < ? and (game_date is null or game_date <= ?) "
            "group by phase) "
            "select l.phase, l.run_id, any_value(l.flow) as flow, any_value(l.game_date) as game_date, "
            "min(l.started_at) as started_at, max(l.finished_at) as finished_at, count(*) as nodes, "
            "count(*) filter (where l.status in ('error', 'fail')) as failed_nodes, "
            "string_agg(distinct l.status, ', ' order by l.status) as statuses, "
            "any_value(l.error_class || ': ' || l.error_message) filter (where l.status in ('error', 'fail')) as error "
            f"from {wh.name('execution_log')} l join last_run r on l.phase = r.phase and l.run_id = r.run_id "
            "group by all order by l.phase", [now, report_date])
        if log.empty:
            s.notes.append("The execution log is empty.")
        else:
            s.tables.append(frame_table(log, {"nodes": "int", "failed_nodes": "int"},
                                        caption="Latest run per phase (raw.pipeline_execution_log)"))
    else:
        s.notes.append(missing(wh, "execution_log"))
    sections.append(s)

    s = Section(title="Great Expectations checkpoint",
                intro="The daily run's checkpoint (step gx_checkpoint): the day's landed batches against the field "
                      "rules of config/validation/, and the staging keys, feature store and predictions contract "
                      "against their dbt tests. A failure raises a gx_checkpoint alert (below).")
    if data_docs:
        s.links.append((data_docs, f"Data Docs of the checkpoint for {report_date}"))
    else:
        s.notes.append(f"No checkpoint Data Docs for {report_date}: the daily run (nba-props run-day) did not "
                       "validate this date.")
    sections.append(s)

    s = Section(title="Alerts")
    if wh.has_columns("alerts", "game_date", "raised_at"):
        al = wh.select("alerts", ["raised_at", "game_date", "alert_type", "severity", "subject", "message",
                                  "acknowledged_at"],
                       where="raised_at < ? and (game_date = ? or (game_date < ? and game_date >= ? and "
                             "(acknowledged_at is null or acknowledged_at > ?)))",
                       params=[now, report_date, report_date, report_date - timedelta(days=7), now],
                       order_by="raised_at desc")
        if al.empty:
            s.notes.append(f"No alert for {report_date} and no alert open in the week before it.")
        else:
            s.tables.append(frame_table(al))
    else:
        s.notes.append(missing(wh, "alerts"))
    sections.append(s)
    return {"sections": sections}

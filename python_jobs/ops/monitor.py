"""Read the monitoring models after a run and turn them into alerts (printed by the CLI and
written to ``raw.alerts`` by the pipeline). A failing coverage SLO is reported separately: it makes
the daily run end non-zero."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from python_jobs.ops.config import OpsConfig
from python_jobs.ops.counts import relation_exists
from python_jobs.ops.records import Alert
from python_jobs.warehouse.base import Warehouse


@dataclass
class MonitoringFindings:
    alerts: list[Alert] = field(default_factory=list)
    slo_failures: list[str] = field(default_factory=list)
    coverage: list[dict] = field(default_factory=list)

    @property
    def summary(self) -> str:
        cov = ", ".join(f"{c['system_id']} {c['coverage_rate']:.1%}" for c in self.coverage
                        if c["coverage_rate"] is not None)
        return f"{len(self.alerts)} alerts; coverage: {cov or 'n/a'}"


def collect(con: Warehouse, game_date: date, cfg: OpsConfig) -> MonitoringFindings:
    found = MonitoringFindings()
    for table in ("monitoring_duplicate_keys", "monitoring_source_arrivals", "monitoring_feature_staleness",
                  "monitoring_prediction_coverage"):
        if not relation_exists(con, "monitoring", table):
            raise RuntimeError(f"monitoring.{table} was not built: run `dbt build --selector monitoring`")

    for rel, n_keys, n_rows, key in con.fetchall(
        "select checked_relation, n_duplicate_keys, n_duplicate_rows, natural_key "
        "from monitoring.monitoring_duplicate_keys where has_duplicates order by checked_relation"
    ):
        found.alerts.append(Alert("duplicate_keys", "error", rel,
                                  f"{rel}: {n_keys} duplicated values of ({key}) over {n_rows} rows", game_date))

    for source, missing, late, minutes in con.fetchall(
        "select source_name, is_missing, is_late, minutes_after_expected from monitoring.monitoring_source_arrivals "
        "where game_date = ? and (is_missing or is_late) order by source_name", [game_date]
    ):
        if late:
            found.alerts.append(Alert("late_data", "warning", source,
                                      f"source {source} {'still missing' if missing else 'arrived'} "
                                      f"{minutes / 60:.1f} h after its expected time", game_date))
        if missing:
            found.alerts.append(Alert("missing_source", "warning", source,
                                      f"source {source} was missing when the wait ended", game_date))

    row = con.fetchone(
        "select stale_share, n_feature_rows from monitoring.monitoring_feature_staleness "
        "where game_date = ? and is_stale_alert", [game_date]
    )
    if row:
        found.alerts.append(Alert("feature_staleness", "warning", "ml_feature_store",
                                  f"{row[0]:.0%} of {row[1]} feature rows are stale", game_date))

    found.alerts.extend(incomplete_box_score_alerts(con, game_date))
    found.alerts.extend(correction_alerts(con))

    rows = con.fetchall(
        "select system_id, n_players_with_line, n_players_predicted, coverage_rate, meets_slo "
        "from monitoring.monitoring_prediction_coverage where game_date = ? order by system_id", [game_date]
    )
    for system_id, n_line, n_pred, rate, meets in rows:
        found.coverage.append({"system_id": system_id, "n_players_with_line": n_line,
                               "n_players_predicted": n_pred, "coverage_rate": rate, "meets_slo": meets})
        if not meets:
            msg = (f"{system_id}: {n_pred}/{n_line} players with a line predicted "
                   f"({(rate or 0):.1%} < SLO {cfg.coverage_slo:.0%})")
            found.alerts.append(Alert("coverage_slo", "error", system_id, msg, game_date))
            found.slo_failures.append(msg)
    return found


# box scores of the last days before the run date are checked (the run for D lands D-1's results;
# a partial one can be replaced by a complete re-scrape a day or two later)
INCOMPLETE_BOX_SCORE_LOOKBACK_DAYS = 3


def incomplete_box_score_alerts(con: Warehouse, game_date: date) -> list[Alert]:
    """One warning per team-game of the last days whose box-score rows are partial
    (analytics.team_offense_game_summary.is_complete): it is left out of the team aggregates until
    a complete payload replaces it."""
    if not relation_exists(con, "analytics", "team_offense_game_summary"):
        raise RuntimeError("analytics.team_offense_game_summary was not built: run Phase 3 first")
    rows = con.fetchall(
        "select game_id, team_tricode, game_date, n_players, team_minutes, incomplete_reason "
        "from analytics.team_offense_game_summary where is_complete is false "
        "and game_date between ? and ? order by game_date, game_id, team_tricode",
        [game_date - timedelta(days=INCOMPLETE_BOX_SCORE_LOOKBACK_DAYS), game_date],
    )
    return [Alert("incomplete_box_score", "warning", f"{game_id} {team}",
                  f"box score of {team} in game {game_id} ({day}) is partial ({reason}: {n} players, "
                  f"{minutes:g} team minutes): left out of team aggregates", day)
            for game_id, team, day, n, minutes, reason in rows]


def correction_alerts(con: Warehouse) -> list[Alert]:
    """One warning per correction to landed history (monitoring.monitoring_data_corrections), dated
    with the corrected game. A box-score correction changed that date's grading: re-grade it
    explicitly. A prop-line correction changed past consensus lines and line features (graded
    picks keep the line they were made against). Alerts are deduplicated by (type, subject, date),
    so a correction is raised once."""
    if not relation_exists(con, "monitoring", "monitoring_data_corrections"):
        raise RuntimeError("monitoring.monitoring_data_corrections was not built: run `dbt build --selector monitoring`")
    rows = con.fetchall(
        "select correction_id, corrected_entity, game_id, player_name, game_date, corrected_field, old_value, "
        "new_value, old_payload_id, new_payload_id, bookmaker_key, line_captured_at "
        "from monitoring.monitoring_data_corrections "
        "order by game_date, game_id, player_name, corrected_field, corrected_at, correction_id"
    )
    alerts = []
    for cid, entity, game_id, name, day, corrected, old, new, old_pid, new_pid, book, captured in rows:
        if entity == "prop_line":
            message = (f"{name} ({game_id}, {day}): {book} line {old:g} -> {new:g} in the snapshot of "
                       f"{captured:%Y-%m-%d %H:%M} UTC, restated by payload {new_pid} (was {old_pid}); past "
                       f"consensus lines and line features of {day} changed (graded picks keep their line)")
        else:
            message = (f"{name} ({game_id}, {day}): {corrected} {old:g} -> {new:g} by payload {new_pid} "
                       f"(was {old_pid}); grading of {day} changed: re-grade with `nba-props grade --date {day}`")
        alerts.append(Alert("data_correction", "warning", cid, message, day))
    return alerts

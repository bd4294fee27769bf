"""The prod (BigQuery) layout, proved on the compiled manifest (offline: the compile of
tests/python/staging/test_prod_target.py, no BigQuery needed).

For a daily run (`--vars run_date`) compiled with the incremental branch:
- every incremental model, and every table model with a `game_date` column, is partitioned (day, on
  game_date) and clustered; exemptions only with a stated `meta.small_table` reason;
- every incremental MERGE limits the target scan to the run window with incremental_predicates on
  DBT_INTERNAL_DEST.<partition column>; per-date models use insert_overwrite (the MERGE dbt-bigquery
  writes replaces only the partitions of the run);
- raw and predictions tables require a partition filter;
- every data test on a partitioned relation filters that relation's partition column to the
  window, checked with sqlglot (BigQuery dialect) on the compiled SQL.
The window oracle is recomputed here: run_date minus incremental_window_days (dbt_project.yml).
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
import sqlglot
import yaml
from sqlglot import exp

from python_jobs.config import PROJECT_ROOT
from tests.python.staging.test_prod_target import _compile_for_prod

RUN_DATE = date(2025, 3, 19)
WINDOW_DAYS = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())["vars"]["incremental_window_days"]
WINDOW_START = (RUN_DATE - timedelta(days=WINDOW_DAYS)).isoformat()  # 2025-02-17 with 30 days


@pytest.fixture(scope="module")
def prod_manifest(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    """(manifest.json as a dict, unique_id -> compiled SQL) of a daily run compiled for prod."""
    monkeypatch = pytest.MonkeyPatch()
    for key, value in {"DBT_TARGET": "prod", "NBA_PROPS_BQ_PROJECT": "nba-props-offline-check",
                       "NBA_PROPS_BQ_DATASET": "nba_props", "NBA_PROPS_BQ_LOCATION": "US",
                       "NBA_PROPS_BQ_METHOD": "oauth"}.items():
        monkeypatch.setenv(key, value)
    target_path = tmp_path_factory.mktemp("prod_manifest")
    try:
        compiled = _compile_for_prod(monkeypatch, target_path, incremental=True,
                                     extra_args=("--vars", json.dumps({"run_date": RUN_DATE.isoformat()})))
    finally:
        monkeypatch.undo()
    manifest = json.loads((target_path / "manifest.json").read_text())
    return manifest, compiled


def _models(manifest: dict) -> dict[str, dict]:
    return {uid: n for uid, n in manifest["nodes"].items()
            if n["resource_type"] == "model" and n["package_name"] == "nba_props"}


def _needs_layout(node: dict) -> bool:
    cfg = node["config"]
    return cfg["materialized"] == "incremental" or (cfg["materialized"] == "table" and "game_date" in node["columns"])


def layout_problems(manifest: dict) -> list[str]:
    problems = []
    for uid, node in sorted(_models(manifest).items()):
        cfg = node["config"]
        if not _needs_layout(node):
            continue
        if cfg.get("meta", {}).get("small_table"):
            assert str(cfg["meta"]["small_table"]).strip(), uid
            continue
        partition = cfg.get("partition_by") or {}
        if partition.get("field") != "game_date" or partition.get("data_type") != "date":
            problems.append(f"{uid}: not partitioned by game_date ({partition})")
        if not cfg.get("cluster_by"):
            problems.append(f"{uid}: no cluster_by")
        for key in cfg.get("cluster_by") or []:
            if key not in node["columns"]:
                problems.append(f"{uid}: clusters on unknown column {key}")
        if cfg["materialized"] != "incremental":
            continue
        strategy = cfg.get("incremental_strategy")
        if strategy == "insert_overwrite":
            continue  # dbt-bigquery's MERGE replaces exactly the partitions of the new rows
        if strategy != "merge":
            problems.append(f"{uid}: strategy {strategy} does not run on BigQuery")
            continue
        predicates = cfg.get("incremental_predicates") or []
        if not any(_predicate_limits_target(p, partition.get("field", "game_date")) for p in predicates):
            problems.append(f"{uid}: MERGE target not limited to the window ({predicates})")
    return problems


def _predicate_limits_target(predicate: str, column: str) -> bool:
    """`DBT_INTERNAL_DEST.<column> >= <the window start>` (a lower bound on the target's partitions)."""
    tree = sqlglot.parse_one(predicate, read="bigquery")
    for node in tree.find_all(exp.GTE, exp.GT):
        left = node.this
        if (isinstance(left, exp.Column) and left.name == column and left.table.upper() == "DBT_INTERNAL_DEST"
                and WINDOW_START in node.expression.sql(dialect="bigquery")):
            return True
    return False


def _partitioned_relations(manifest: dict) -> dict[str, str]:
    """identifier -> partition column, for date-partitioned models and raw sources (an
    integer-range partition, one per season, is no date window: its small table is tested whole)."""
    out = {}
    for node in _models(manifest).values():
        partition = node["config"].get("partition_by")
        if partition and partition.get("range"):
            assert node["config"].get("meta", {}).get("small_table"), node["unique_id"]
            continue
        if partition and node["config"]["materialized"] in ("table", "incremental"):
            out[node["alias"]] = partition["field"]
    for source in manifest["sources"].values():
        layout = source["config"].get("meta", {}).get("raw_layout") or {}
        if layout.get("partition_by"):
            out[source["identifier"]] = layout["partition_by"]
    return out


def _filters_partition(select: exp.Select | None, column: str) -> bool:
    where = select.args.get("where") if select is not None else None
    if where is None:
        return False
    for node in where.find_all(exp.GTE):
        if isinstance(node.this, exp.Column) and node.this.name == column and WINDOW_START in node.expression.sql("bigquery"):
            return True
    return False


def unfiltered_test_reads(manifest: dict, compiled: dict, checked: list[str] | None = None) -> list[str]:
    partitioned = _partitioned_relations(manifest)
    problems = []
    checked = [] if checked is None else checked
    for uid, sql in sorted(compiled.items()):
        if not uid.startswith("test."):
            continue
        for tree in sqlglot.parse(sql, read="bigquery"):
            for table in tree.find_all(exp.Table):
                column = partitioned.get(table.name)
                if column is None or not table.args.get("db"):
                    continue  # a CTE name, or an unpartitioned relation
                checked.append(uid)
                if not _filters_partition(table.find_ancestor(exp.Select), column):
                    problems.append(f"{uid}: reads {table.sql('bigquery')} without a window on {column}")
    return problems


def test_every_large_model_is_partitioned_clustered_and_merges_in_a_window(prod_manifest) -> None:
    manifest, _ = prod_manifest
    problems = layout_problems(manifest)
    assert not problems, "\n".join(problems)
    models = _models(manifest)
    laid_out = [uid for uid, n in models.items() if _needs_layout(n) and n["config"].get("partition_by")]
    assert len(laid_out) >= 16  # staging 3, analytics 7, precompute 4, predictions 1, grading 1
    merges = [uid for uid in laid_out if models[uid]["config"].get("incremental_strategy") == "merge"]
    assert "model.nba_props.player_prop_predictions" in merges and len(merges) == 8
    # rebuilt per season (player_season_summary): one integer-range partition per season, replaced
    # whole (insert_overwrite), like delete+insert by season on DuckDB
    summary = models["model.nba_props.player_season_summary"]["config"]
    assert summary["incremental_strategy"] == "insert_overwrite" and summary["unique_key"] == "season"
    assert summary["partition_by"]["field"] == "season_start_year" and summary["partition_by"]["range"]["interval"] == 1


def test_raw_and_predictions_tables_require_a_partition_filter(prod_manifest) -> None:
    manifest, _ = prod_manifest
    predictions = manifest["nodes"]["model.nba_props.player_prop_predictions"]["config"]
    assert predictions["require_partition_filter"] is True
    raw = {s["identifier"]: s["config"]["meta"].get("raw_layout") for s in manifest["sources"].values()}
    for big in ("landed_payloads", "nba_player_game_logs", "nba_schedule_games", "nba_players",
                "odds_player_props", "prediction_scores"):
        assert raw[big]["require_partition_filter"] is True, big


def test_every_data_test_of_a_daily_run_filters_the_partition_column(prod_manifest) -> None:
    manifest, compiled = prod_manifest
    tests = [uid for uid in compiled if uid.startswith("test.")]
    assert len(tests) > 300
    checked: list[str] = []
    problems = unfiltered_test_reads(manifest, compiled, checked)
    # most tests read a partitioned relation: staging, analytics, precompute, predictions, raw
    assert len(set(checked)) > 250
    assert any(".source_" in uid or "_nba_" in uid for uid in checked)
    assert not problems, f"{len(problems)} test reads without the run window:\n" + "\n".join(problems[:40])


def test_the_checks_fail_when_a_config_is_removed(prod_manifest) -> None:
    """Mutations: each check above notices one missing config."""
    import copy

    manifest, compiled = prod_manifest
    broken = copy.deepcopy(manifest)
    broken["nodes"]["model.nba_props.ml_feature_store"]["config"]["partition_by"] = None
    assert any("ml_feature_store: not partitioned" in p for p in layout_problems(broken))
    broken = copy.deepcopy(manifest)
    broken["nodes"]["model.nba_props.player_game_summary"]["config"]["cluster_by"] = None
    assert any("player_game_summary: no cluster_by" in p for p in layout_problems(broken))
    broken = copy.deepcopy(manifest)
    broken["nodes"]["model.nba_props.stg_nba__player_game_logs"]["config"]["incremental_predicates"] = None
    assert any("stg_nba__player_game_logs: MERGE target not limited" in p for p in layout_problems(broken))
    uid = next(u for u in compiled if u.startswith("test.nba_props.unique_combination_of_columns_player_prop_predictions"))
    unfiltered = {uid: compiled[uid].replace(f"game_date >= cast('{WINDOW_START}' as date)", "1 = 1")}
    assert unfiltered[uid] != compiled[uid]
    assert unfiltered_test_reads(manifest, unfiltered), "an unfiltered test read went unnoticed"


def _required_partition_filters(manifest: dict) -> dict[tuple[str, str], str]:
    """(dataset, table) -> partition column of every relation with require_partition_filter."""
    out = {}
    for source in manifest["sources"].values():
        layout = source["config"].get("meta", {}).get("raw_layout") or {}
        if layout.get("require_partition_filter"):
            out[(source["schema"].lower(), source["identifier"].lower())] = layout["partition_by"]
    for node in _models(manifest).values():
        if node["config"].get("require_partition_filter"):
            out[(node["schema"].lower(), node["alias"].lower())] = node["config"]["partition_by"]["field"]
    return out


def unfiltered_model_reads(manifest: dict, compiled: dict, checked: list[str] | None = None) -> list[str]:
    """Models whose compiled SQL reads a require_partition_filter relation without a predicate on
    its partition column in the query block that scans it (python_jobs.warehouse.partitions)."""
    from python_jobs.warehouse.partitions import unfiltered_partition_reads

    required = _required_partition_filters(manifest)
    checked = [] if checked is None else checked
    problems = []
    for uid, sql in sorted(compiled.items()):
        if not uid.startswith("model."):
            continue
        if any(table in sql for _, table in required):
            checked.append(uid)
        problems += [f"{uid}: reads {t} without a partition filter"
                     for t in unfiltered_partition_reads(sql, required, dialect="bigquery")]
    return problems


def test_every_model_read_of_a_partition_filtered_table_filters_its_partition(prod_manifest) -> None:
    manifest, compiled = prod_manifest
    required = _required_partition_filters(manifest)
    assert len(required) == 7  # six raw tables and player_prop_predictions
    checked: list[str] = []
    problems = unfiltered_model_reads(manifest, compiled, checked)
    # staging (4 raw readers), the predictions view and merge, the grading readers, corrections
    for model in ("stg_nba__player_game_logs", "stg_odds__player_prop_lines", "stg_ml__prediction_scores",
                  "player_prop_predictions", "prediction_accuracy", "prediction_coverage",
                  "prediction_grading_reconciliation", "monitoring_data_corrections"):
        assert f"model.nba_props.{model}" in checked, model
    assert not problems, "\n".join(problems)
    # a planted bug: the predictions view without its filter, the merge's existing rows unbounded
    for uid, text in (("model.nba_props.stg_ml__prediction_scores", "where game_date >= cast('1900-01-01' as date)"),
                      ("model.nba_props.player_prop_predictions", f"where game_date >= cast('{WINDOW_START}' as date)")):
        assert text in compiled[uid], uid
        broken = {uid: compiled[uid].replace(text, "")}
        assert unfiltered_model_reads(manifest, broken), f"{uid}: an unfiltered read went unnoticed"

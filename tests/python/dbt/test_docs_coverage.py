"""dbt docs coverage, lineage and parse warnings, from the real manifest and catalog.

- every model, model column and source column is described; every source table has freshness or
  states why not (meta.freshness_exempt); every model has a primary-key test;
- docs/dbt-coverage.md is what python_jobs.docs_coverage produces now (the figures are current);
- the lineage runs ml_feature_store -> stg_ml__prediction_scores -> player_prop_predictions (the
  Python scoring step, declared with depends_on), so dbt builds them in that order and the docs
  site draws it;
- `dbt parse` prints no deprecation (PropertyMovedToConfigDeprecation: top-level loaded_at_field).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from python_jobs.config import PROJECT_ROOT
from python_jobs.docs_coverage import PAGE, CoverageError, generate_artifacts, measure, render

# the sources whose freshness means something (a daily job writes them), listed by hand
SOURCES_WITH_FRESHNESS = {"ingest.scrape_runs", "ml.prediction_scores", "nba.player_game_logs", "nba.players",
                          "nba.schedule_games", "odds.player_props"}


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    return generate_artifacts(tmp_path_factory.mktemp("coverage"))


@pytest.mark.timeout(600)
def test_every_model_column_and_source_column_is_described_and_sources_have_freshness(artifacts):
    manifest, catalog = artifacts
    cov = measure(manifest, catalog)
    # independent counts straight from the catalog
    n_model_columns = sum(len(n["columns"]) for uid, n in catalog["nodes"].items() if uid.startswith("model."))
    n_source_columns = sum(len(s["columns"]) for s in catalog["sources"].values())
    assert cov.models == sum(1 for uid in catalog["nodes"] if uid.startswith("model.nba_props.")) > 30
    assert (cov.models_described, cov.model_columns, cov.model_columns_described) == (
        cov.models, n_model_columns, n_model_columns)
    assert (cov.source_columns, cov.source_columns_described) == (n_source_columns, n_source_columns)
    assert cov.undescribed == []
    fresh = {f"{s['source_name']}.{s['name']}" for s in manifest["sources"].values()
             if (s["freshness"] or {}).get("error_after", {}).get("count")}
    assert fresh == SOURCES_WITH_FRESHNESS
    assert cov.sources_with_freshness == len(SOURCES_WITH_FRESHNESS)
    assert cov.sources_without_freshness_or_reason == []
    assert len(cov.freshness_exempt) == cov.sources - len(SOURCES_WITH_FRESHNESS)
    assert cov.models_without_primary_key_test == []
    assert cov.tests_per_model_min >= 1


def test_the_coverage_page_in_docs_is_current(artifacts):
    manifest, catalog = artifacts
    assert (PROJECT_ROOT / PAGE).read_text() == render(measure(manifest, catalog)), (
        "docs/dbt-coverage.md is out of date: run `uv run python -m python_jobs.docs_coverage`")


def test_scoring_step_is_in_the_lineage(artifacts):
    manifest, _ = artifacts
    parents = manifest["parent_map"]
    feature_store = "model.nba_props.ml_feature_store"
    scores = "model.nba_props.stg_ml__prediction_scores"
    rejects = "model.nba_props.stg_ml__prediction_rejects"
    predictions = "model.nba_props.player_prop_predictions"
    assert feature_store in parents[scores] and feature_store in parents[rejects]
    assert scores in parents[predictions]

    def ancestors(uid: str) -> set[str]:
        seen, todo = set(), [uid]
        while todo:
            for p in parents.get(todo.pop(), []):
                if p not in seen:
                    seen.add(p)
                    todo.append(p)
        return seen

    lineage = ancestors(predictions)
    assert {feature_store, "source.nba_props.ml.prediction_scores"} <= lineage
    # the feature store keeps its own lineage (the staged box scores reach the predictions through it)
    assert "model.nba_props.stg_nba__player_game_logs" in lineage
    assert predictions not in ancestors(feature_store)


def test_measure_on_a_hand_made_manifest():
    model = {"resource_type": "model", "package_name": "nba_props", "name": "m", "description": "M.",
             "columns": {"a": {"description": "A."}, "b": {"description": " "}}}
    test = {"resource_type": "test", "package_name": "nba_props", "depends_on": {"nodes": ["model.nba_props.m"]},
            "test_metadata": {"name": "unique"}, "column_name": "a", "attached_node": "model.nba_props.m"}
    src = {"package_name": "nba_props", "source_name": "s", "name": "t", "freshness": {"warn_after": {"count": None}},
           "columns": {"x": {"description": "X."}}, "config": {"meta": {}}}
    manifest = {"nodes": {"model.nba_props.m": model, "test.nba_props.u": test},
                "sources": {"source.nba_props.s.t": src}}
    catalog = {"nodes": {"model.nba_props.m": {"columns": {"a": {}, "b": {}, "c": {}}}},
               "sources": {"source.nba_props.s.t": {"columns": {"x": {}, "y": {}}}}}
    cov = measure(manifest, catalog)
    assert (cov.models, cov.models_described, cov.model_columns, cov.model_columns_described) == (1, 1, 3, 1)
    assert (cov.source_columns, cov.source_columns_described) == (2, 1)
    assert cov.sources_with_freshness == 0 and cov.sources_without_freshness_or_reason == ["s.t"]
    assert cov.models_without_primary_key_test == ["m"]  # unique without not_null
    assert sorted(cov.undescribed) == ["m.b", "m.c", "s.t.y"]
    src["config"]["meta"]["freshness_exempt"] = "only on errors"
    test2 = dict(test, test_metadata={"name": "not_null"})
    manifest["nodes"]["test.nba_props.n"] = test2
    cov = measure(manifest, catalog)
    assert cov.freshness_exempt == {"s.t": "only on errors"} and cov.models_without_primary_key_test == []
    assert (cov.data_tests, cov.tests_per_model_min) == (2, 2)
    del catalog["nodes"]["model.nba_props.m"]
    with pytest.raises(CoverageError, match="not in the catalog"):
        measure(manifest, catalog)


@pytest.mark.timeout(300)
def test_dbt_parse_prints_no_deprecation(tmp_path: Path):
    """Parsed for the prod (BigQuery) target, offline: dbt-core validates the YAML against its JSON
    schema (and so warns PropertyMovedToConfigDeprecation) only for some adapters, BigQuery among
    them and DuckDB not, so a DuckDB parse or build never shows these warnings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NBA_PROPS_", "DBT_"))}
    env.update({"DBT_TARGET": "prod", "NBA_PROPS_BQ_PROJECT": "nba-props-offline-check",
                "NBA_PROPS_BQ_DATASET": "nba_props", "NBA_PROPS_BQ_LOCATION": "US", "NBA_PROPS_BQ_METHOD": "oauth",
                "NBA_PROPS_WAREHOUSE_DIR": str(tmp_path)})
    dbt = Path(sys.executable).parent / "dbt"
    done = subprocess.run([str(dbt), "parse", "--no-partial-parse", "--profiles-dir", ".", "--target", "prod",
                           "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"),
                           "--show-all-deprecations"],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=240)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "Registered adapter: bigquery" in output  # the schema validation ran
    assert "Deprecation" not in output, output[-3000:]

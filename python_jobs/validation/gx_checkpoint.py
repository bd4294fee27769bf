"""The daily Great Expectations checkpoint: the day's landed batches and the key marts.

What it validates for game date D (every frame is read through the Warehouse boundary with
``fetch_df``, so it runs the same on DuckDB and BigQuery; GX gets pandas frames, never a database):

* the day's landed batches, one validation per record kind (``raw.<kind>``: box scores of D-1 and
  D, the schedule of D, the latest players payload, the odds lines of D), against the suites
  GENERATED from ``config/validation/<kind>.yml`` (the same field rules the edge checks run);
* the key marts, against suites generated from their dbt YAML (primary-key
  ``unique_combination_of_columns``, ``unique``/``not_null`` tests and ``not_null`` constraints,
  ``accepted_values``, ``accepted_range``): the staging keys, ``ml_feature_store`` and the
  ``player_prop_predictions`` contract, for D.

Data Docs are written beside the daily report (``<report_dir>/<D>/data_docs/index.html``); the
report's data-health page links them. ``great_expectations`` (~6 s to import) is imported only
inside the functions here: nothing on the CLI or ingest path imports this module at import time.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import time
import warnings
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from python_jobs.validation.spec import KindSpec, gx_frame, kinds, load_spec
from python_jobs.warehouse.partitions import landed_since

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mart:
    schema: str
    model: str
    date_column: str | None
    days: tuple[int, int] = (0, 0)   # offsets of D: rows with date_column between D+a and D+b


# staging keys, the feature store and the predictions contract
MARTS = (
    Mart("staging", "stg_nba__player_game_logs", "game_date", (-1, 0)),
    Mart("staging", "stg_nba__schedule_games", "game_date"),
    Mart("staging", "stg_nba__players", None),
    Mart("staging", "stg_odds__player_prop_lines", "game_date"),
    Mart("precompute", "ml_feature_store", "game_date"),
    Mart("predictions", "player_prop_predictions", "game_date"),
)

# the day's landed batches per record kind (raw tables), parameterised by D
_ET_DATE = "cast(timezone('America/New_York', coalesce(commence_time, captured_at)) as date)"
# every raw read filters its partition column (scraped_at): a row about D lands at most
# `raw_landing_lead_days` before D (python_jobs.warehouse.partitions)
LANDED_SQL = {
    "nba_player_game_logs": ("select * from raw.nba_player_game_logs where scraped_at >= ? and game_date between ? and ?",
                             lambda d: [landed_since(d - timedelta(days=1)), d - timedelta(days=1), d]),
    "nba_schedule_games": ("select * from raw.nba_schedule_games where scraped_at >= ? and game_date = ?",
                           lambda d: [landed_since(d), d]),
    "nba_players": ("select * from raw.nba_players where scraped_at >= ? and payload_id = (select payload_id "
                    "from raw.nba_players where scraped_at >= ? order by scraped_at desc, payload_id limit 1)",
                    lambda d: [landed_since(d), landed_since(d)]),
    "odds_player_props": (f"select * from raw.odds_player_props where scraped_at >= ? and {_ET_DATE} = ?",
                          lambda d: [landed_since(d), d]),
}


@dataclass
class ValidationSummary:
    name: str
    rows: int
    evaluated: int
    failed: list[str] = field(default_factory=list)   # "expectation_type(column): n unexpected"
    # frame rows failing a map expectation (validate(per_row=True)); None when unknown
    failed_rows: set[int] | None = field(default_factory=set)

    def row_ok(self, i: int) -> bool:
        return self.failed_rows is not None and i not in self.failed_rows

    @property
    def success(self) -> bool:
        return not self.failed


@dataclass
class CheckpointReport:
    game_date: date
    validations: list[ValidationSummary]
    docs_index: Path | None
    seconds: float = 0.0
    skipped: list[str] = field(default_factory=list)   # marts not built in this warehouse

    @property
    def success(self) -> bool:
        return all(v.success for v in self.validations)

    @property
    def n_failed(self) -> int:
        return sum(len(v.failed) for v in self.validations)

    def summary(self) -> str:
        bad = [f"{v.name}: {'; '.join(v.failed[:3])}" for v in self.validations if not v.success]
        head = (f"{len(self.validations)} validations, {sum(v.evaluated for v in self.validations)} expectations, "
                f"{self.n_failed} failed")
        return head + (" -- " + " | ".join(bad) if bad else "")


# ---------------------------------------------------------------------------------------- suites
def _suite_of_kind(spec: KindSpec) -> list[dict[str, Any]]:
    return spec.expectations()


def _model_yaml(home: Path, model: str) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for path in sorted((Path(home) / "models").rglob("*.yml")):
        text = path.read_text()
        if f"name: {model}" not in text:   # parse only the file that describes the model
            continue
        doc = yaml.load(text, Loader=loader) or {}  # noqa: S506 - a safe loader
        for m in doc.get("models", []) or []:
            if m.get("name") == model:
                return m
    raise ValueError(f"model {model} is not described in models/**/*.yml")


def _test_args(test: Any) -> tuple[str, dict[str, Any]]:
    """(test name, its arguments); a test restricted by ``config: where`` is not translated (name '')."""
    if isinstance(test, str):
        return test, {}
    (name, body), = test.items()
    body = body or {}
    if (body.get("config") or {}).get("where"):
        return "", {}
    return name, {**{k: v for k, v in body.items() if k not in ("arguments", "config")}, **body.get("arguments", {})}


def _number(value: Any) -> float | None:
    """A numeric bound, or None (a SQL expression such as ``cast('1946-11-01' as date)`` stays dbt-only)."""
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


@lru_cache(maxsize=32)
def _mart_suite_cached(home: str, model: str) -> tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]:
    m = _model_yaml(Path(home), model)
    out: list[tuple[str, dict[str, Any]]] = []
    for test in m.get("data_tests", []) or []:
        name, args = _test_args(test)
        if name == "unique_combination_of_columns":
            cols = list(args["combination_of_columns"])
            out.append(("expect_compound_columns_to_be_unique", {"column_list": cols}) if len(cols) > 1
                       else ("expect_column_values_to_be_unique", {"column": cols[0]}))
    for constraint in (m.get("constraints", []) or []):   # the contract's simple model-level checks
        if constraint.get("type") == "check" and (e := _check_expectation(constraint.get("expression", ""))):
            out.append(e)
    for col in m.get("columns", []) or []:
        c = col["name"]
        not_null = any(k.get("type") == "not_null" for k in col.get("constraints", []) or [])
        for test in col.get("data_tests", []) or []:
            name, args = _test_args(test)
            if name == "not_null":
                not_null = True
            elif name == "unique":
                out.append(("expect_column_values_to_be_unique", {"column": c}))
            elif name == "accepted_values":
                out.append(("expect_column_values_to_be_in_set", {"column": c, "value_set": list(args["values"])}))
            elif name == "accepted_range":
                bounds = {k: v for k in ("min_value", "max_value") if (v := _number(args.get(k))) is not None}
                if bounds:
                    out.append(("expect_column_values_to_be_between", {"column": c, **bounds}))
        if not_null:
            out.append(("expect_column_values_to_not_be_null", {"column": c}))
    return tuple((t, tuple(sorted(kw.items()))) for t, kw in out)


_IN = re.compile(r"^\s*(\w+)\s+in\s*\(([^()]*)\)\s*$", re.I)
_BETWEEN = re.compile(r"^\s*(\w+)\s+between\s+(-?[0-9.]+)\s+and\s+(-?[0-9.]+)\s*$", re.I)
_COMPARE = re.compile(r"^\s*(\w+)\s*(>=|<=)\s*(-?[0-9.]+)\s*$")


def _check_expectation(expression: str) -> tuple[str, dict[str, Any]] | None:
    """A contract ``check`` constraint as a GX expectation, for the simple forms (``col in (...)``,
    ``col between a and b``, ``col >= a``, ``col <= b``); other expressions stay dbt-only."""
    if m := _IN.match(expression):
        values = [v.strip().strip("'") for v in m.group(2).split(",")]
        return "expect_column_values_to_be_in_set", {"column": m.group(1), "value_set": values}
    if m := _BETWEEN.match(expression):
        return "expect_column_values_to_be_between", {"column": m.group(1), "min_value": float(m.group(2)),
                                                      "max_value": float(m.group(3))}
    if m := _COMPARE.match(expression):
        bound = "min_value" if m.group(2) == ">=" else "max_value"
        return "expect_column_values_to_be_between", {"column": m.group(1), bound: float(m.group(3))}
    return None


def mart_expectations(home: Path, model: str) -> list[dict[str, Any]]:
    """The GX expectations of a mart, from its dbt YAML (the rules stay written once, in dbt)."""
    return [{"type": t, "kwargs": dict(kw)} for t, kw in _mart_suite_cached(str(home), model)]


# ---------------------------------------------------------------------------------------- GX
def _quiet_gx() -> None:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    for name in ("great_expectations", "great_expectations.core", "great_expectations.data_context"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _pascal(snake: str) -> str:
    return "".join(p.capitalize() for p in snake.split("_"))


class GxRunner:
    """One ephemeral GX context (offline, no progress bars) with an optional Data Docs site."""

    def __init__(self, docs_dir: Path | None = None):
        _quiet_gx()
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self.gx = gx
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        self.docs_dir = docs_dir
        if docs_dir is not None:
            self.context.add_data_docs_site(site_name="nba_props", site_config={
                "class_name": "SiteBuilder",
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            })
        self.source = self.context.data_sources.add_pandas("nba_props")

    def validate(self, name: str, frame: Any, expectations: list[dict[str, Any]],
                 per_row: bool = False) -> ValidationSummary:
        """Run ``expectations`` on ``frame`` as checkpoint ``daily__<name>``. ``per_row``: collect every
        failing row index (``failed_rows``; GX's COMPLETE result format, slower); otherwise SUMMARY."""
        gx = self.gx
        import great_expectations.expectations as gxe

        suite = self.context.suites.add(gx.ExpectationSuite(
            name=name, expectations=[getattr(gxe, _pascal(e["type"]))(**e["kwargs"]) for e in expectations]))
        asset = self.source.add_dataframe_asset(name)
        batch = asset.add_batch_definition_whole_dataframe("day")
        vd = self.context.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch, suite=suite))
        # results are kept (in memory) for one Data Docs build at the end (build_docs): updating the
        # site after every validation re-renders it each time
        checkpoint = self.context.checkpoints.add(gx.Checkpoint(
            name=f"daily__{name}", validation_definitions=[vd], actions=[],
            result_format={"result_format": "COMPLETE" if per_row else "SUMMARY"}))
        with open(os.devnull, "w") as devnull, contextlib.redirect_stderr(devnull), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)   # "pattern ... has match groups" from pandas
            result = checkpoint.run(batch_parameters={"dataframe": frame})
        summary = ValidationSummary(name, len(frame), 0, failed_rows=set() if per_row else None)
        for run in result.run_results.values():
            for r in run.results:
                summary.evaluated += 1
                if r.success:
                    continue
                cfg = r.expectation_config
                col = cfg.kwargs.get("column") or ",".join(cfg.kwargs.get("column_list", []))
                info = r.exception_info or {}
                if info.get("raised_exception"):
                    summary.failed.append(f"{cfg.type}({col}): error: {str(info.get('exception_message'))[:80]}")
                    summary.failed_rows = None   # cannot tell which rows: every row counts as failed
                    continue
                summary.failed.append(f"{cfg.type}({col}): {r.result.get('unexpected_count')} unexpected")
                if summary.failed_rows is not None:
                    summary.failed_rows.update(int(i) for i in r.result.get("unexpected_index_list") or [])
        return summary


    def build_docs(self) -> Path | None:
        """Render the Data Docs site once, with every validation of this runner; its index.html."""
        if self.docs_dir is None:
            return None
        with open(os.devnull, "w") as devnull, contextlib.redirect_stderr(devnull):
            self.context.build_data_docs(site_names=["nba_props"])
        index = self.docs_dir / "index.html"
        return index if index.exists() else None


def validate_records(home: Path, kind: str, rows: list[dict[str, Any]]) -> ValidationSummary:
    """GX verdict on records of ``kind`` (field name -> value): the suite generated from the spec."""
    spec = load_spec(Path(home), kind)
    return GxRunner().validate(kind, gx_frame(spec, rows), spec.expectations())


def docs_dir_for(report_dir: Path, game_date: date) -> Path:
    """Where the checkpoint's Data Docs go: beside the daily report of that date."""
    return Path(report_dir) / game_date.isoformat() / "data_docs"


def run_checkpoint(settings: Any, con: Any, game_date: date, docs_dir: Path | None = None) -> CheckpointReport:
    """Validate the day's landed batches and key marts of ``game_date`` (``con``: a Warehouse);
    write Data Docs to ``docs_dir`` (default beside the report of that date)."""
    started = time.perf_counter()
    home = Path(settings.home)
    docs = docs_dir if docs_dir is not None else docs_dir_for(settings.report_dir, game_date)
    if docs.exists():
        shutil.rmtree(docs)   # the docs of this date only show this run's validations
    docs.mkdir(parents=True, exist_ok=True)
    runner = GxRunner(docs)
    validations: list[ValidationSummary] = []
    skipped: list[str] = []
    for kind in kinds(home):
        sql, params = LANDED_SQL[kind]
        rows = con.fetch_dicts(sql, params(game_date))
        spec = load_spec(home, kind)
        validations.append(runner.validate(f"landed__{kind}", gx_frame(spec, rows), spec.expectations()))
    for mart in MARTS:
        relation = f"{mart.schema}.{mart.model}"
        if not con.table_exists(relation):
            skipped.append(relation)
            continue
        if mart.date_column:
            a, b = mart.days
            frame = con.fetch_df(f"select * from {relation} where {mart.date_column} between ? and ?",
                                 [game_date + timedelta(days=a), game_date + timedelta(days=b)])
        else:
            frame = con.fetch_df(f"select * from {relation}")
        validations.append(runner.validate(f"mart__{mart.model}", frame, mart_expectations(home, mart.model)))
    report = CheckpointReport(game_date, validations, runner.build_docs(),
                              round(time.perf_counter() - started, 3), skipped)
    log.info("GX checkpoint for %s: %s (%.1f s)", game_date, report.summary(), report.seconds)
    return report

"""Partition filters of the Python readers (issue #10): BigQuery's ``require_partition_filter``.

On the prod target the raw tables (partitioned by landing day, ``scraped_at``) and the predictions
tables (by ``game_date``) refuse a query without a filter on their partition column, and a query
with one reads only the partitions it names, so its cost does not grow with history. The rules
here are the ones every Python reader applies; their values live in ``dbt_project.yml`` (vars
``partition_floor`` and ``raw_landing_lead_days``), which the dbt macros read too:

- ``landed_since(D)``: a raw row about game date D landed at most ``raw_landing_lead_days`` days
  before D (a season's schedule lands before its first game; box scores and odds of D land on or
  shortly before D). A read of raw rows about D filters ``scraped_at >= landed_since(D)``.
- ``floor_timestamp()`` / ``floor_date()``: the all-partitions bound, for the few reads that need
  every partition by design (the landing dedup map: a re-import of an old file must be caught
  whenever the original landed), and read only narrow key columns.

``required_partition_filters`` lists the tables that require a filter (from the dbt YAML: raw
sources' ``meta.raw_layout`` and models' ``require_partition_filter`` config) and
``unfiltered_partition_reads`` finds, with sqlglot, each read of one of them without a predicate on
its partition column (tests/python/warehouse/test_partition_filters.py runs it on the SQL sent).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path

import sqlglot
import yaml
from sqlglot import exp

from python_jobs.config import PROJECT_ROOT


@lru_cache(maxsize=4)
def _vars(home: Path) -> dict:
    project = yaml.safe_load((home / "dbt_project.yml").read_text())
    return dict(project.get("vars") or {})


def floor_date(home: Path | None = None) -> date:
    """The all-partitions lower bound (var ``partition_floor``)."""
    return date.fromisoformat(str(_vars(Path(home or PROJECT_ROOT))["partition_floor"]))


def floor_timestamp(home: Path | None = None) -> datetime:
    return datetime.combine(floor_date(home), time(), UTC)


def landing_lead(home: Path | None = None) -> timedelta:
    """How long before its game date a raw row may land (var ``raw_landing_lead_days``)."""
    return timedelta(days=int(_vars(Path(home or PROJECT_ROOT))["raw_landing_lead_days"]))


def landed_since(game_date: date, home: Path | None = None) -> datetime:
    """The earliest ``scraped_at`` (UTC) of a raw row about ``game_date``."""
    return datetime.combine(game_date - landing_lead(home), time(), UTC)


def run_window_start(run_date: date, home: Path | None = None) -> date:
    """The first game date a daily run for ``run_date`` touches (var ``incremental_window_days``;
    the dbt side: macro run_window_start)."""
    return run_date - timedelta(days=int(_vars(Path(home or PROJECT_ROOT))["incremental_window_days"]))


# --------------------------------------------------------------------------- the check
def required_partition_filters(home: Path | None = None) -> dict[tuple[str, str], str]:
    """``(schema, table) -> partition column`` of every table with ``require_partition_filter``,
    read from the dbt YAML: raw sources (``config.meta.raw_layout``) and models (config
    ``require_partition_filter``; schema = the model folder, partition column ``game_date`` unless
    the model's config names another)."""
    home = Path(home or PROJECT_ROOT)
    out: dict[tuple[str, str], str] = {}
    for path in sorted((home / "models").rglob("*.yml")):
        doc = yaml.safe_load(path.read_text()) or {}
        for source in doc.get("sources") or []:
            for table in source.get("tables") or []:
                layout = ((table.get("config") or {}).get("meta") or {}).get("raw_layout") or {}
                if layout.get("require_partition_filter"):
                    name = table.get("identifier") or table["name"]
                    out[(source.get("schema", source["name"]).lower(), name.lower())] = layout["partition_by"]
        for model in doc.get("models") or []:
            config = model.get("config") or {}
            if config.get("require_partition_filter"):
                folder = path.relative_to(home / "models").parts[0]
                field = (config.get("partition_by") or {}).get("field", "game_date")
                out[(folder.lower(), model["name"].lower())] = field
    return out


_PRUNING = (exp.EQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between, exp.In)


def _conjuncts(condition: exp.Expression | None) -> list[exp.Expression]:
    if condition is None:
        return []
    condition = condition.unnest()
    if isinstance(condition, exp.And):
        return _conjuncts(condition.left) + _conjuncts(condition.right)
    return [condition]


def _filters(conjunct: exp.Expression, column: str, alias: str, only_table: bool) -> bool:
    """A conjunct that prunes partitions: a comparison with the bare partition column on one side."""
    if not isinstance(conjunct, _PRUNING):
        return False
    sides = [conjunct.this] if isinstance(conjunct, exp.Between | exp.In) else [conjunct.left, conjunct.right]
    for side in sides:
        side = side.unnest()
        if isinstance(side, exp.Column) and side.name.lower() == column:
            qualifier = side.table.lower()
            if qualifier == alias or (not qualifier and only_table):
                return True
    return False


def unfiltered_partition_reads(sql: str, required: Mapping[tuple[str, str], str],
                               dialect: str = "duckdb") -> list[str]:
    """Each ``schema.table`` of ``required`` that ``sql`` reads without a partition predicate: a
    top-level ``AND`` term of the ``WHERE`` (or the join's ``ON``) of the query block that scans it,
    comparing the partition column itself (not an expression of it) with something."""
    found: list[str] = []
    if dialect == "duckdb":  # '?' placeholders numbered as the BigQuery engine does ('?::' parses then)
        from python_jobs.warehouse.bigquery_engine import _number_placeholders

        sql = _number_placeholders(sql)
    for statement in sqlglot.parse(sql, read=dialect):
        if statement is None:
            continue
        for table in statement.find_all(exp.Table):
            key = (table.db.lower(), table.name.lower())
            if key not in required:
                continue
            insert = table.find_ancestor(exp.Insert)
            if insert is not None and (insert.this is table or table.parent is insert.this):
                continue  # the target of an INSERT: a write reads no partition
            column = required[key].lower()
            alias = table.alias_or_name.lower()
            block = table.find_ancestor(exp.Select, exp.Delete, exp.Update)
            conditions: list[exp.Expression] = []
            only_table = False
            if block is not None:
                conditions += _conjuncts(block.args.get("where") and block.args["where"].this)
                joins = block.args.get("joins") or []
                only_table = not joins
                for join in joins:
                    if join.this is table or table in join.find_all(exp.Table):
                        conditions += _conjuncts(join.args.get("on"))
            if not any(_filters(c, column, alias, only_table) for c in conditions):
                found.append(f"{key[0]}.{key[1]}")
    return found

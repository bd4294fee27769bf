"""dbt documentation coverage, measured from the manifest and the catalog -> docs/dbt-coverage.md.

    uv run python -m python_jobs.docs_coverage            # build empty relations, docs generate, write the page
    uv run python -m python_jobs.docs_coverage --check    # exit 1 if docs/dbt-coverage.md is out of date

Figures (project nodes only, packages left out):
- models described: models with a non-empty description / models;
- model columns described: columns the catalog finds in the built relation that have a non-empty
  description in the YAML / columns in the catalog (so an undeclared column counts as undescribed);
- source columns described: the same for the raw sources;
- sources with freshness: source tables with a warn_after or error_after; the others must state
  why in ``meta.freshness_exempt`` (e.g. tables written only when something goes wrong);
- data tests per model, and models without a primary-key test (unique + not_null on one column,
  or unique_combination_of_columns).

The catalog needs the relations to exist, not data: the page is produced on a private, empty
warehouse (``dbt build --empty``) so the figures do not depend on what a user has ingested.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from python_jobs.config import PROJECT_ROOT, Settings

log = logging.getLogger(__name__)
PAGE = Path("docs") / "dbt-coverage.md"
PROJECT = "nba_props"


class CoverageError(RuntimeError):
    """The artifacts do not allow a measure (e.g. a model is missing from the catalog)."""


@dataclass
class Coverage:
    models: int = 0
    models_described: int = 0
    model_columns: int = 0
    model_columns_described: int = 0
    sources: int = 0
    source_columns: int = 0
    source_columns_described: int = 0
    sources_with_freshness: int = 0
    freshness_exempt: dict[str, str] = field(default_factory=dict)
    sources_without_freshness_or_reason: list[str] = field(default_factory=list)
    data_tests: int = 0
    tests_per_model_min: int = 0
    tests_per_model_median: float = 0.0
    models_without_primary_key_test: list[str] = field(default_factory=list)
    undescribed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _described(text: str | None) -> bool:
    return bool(text and text.strip())


def _columns_described(catalog_node: dict, manifest_node: dict, label: str, undescribed: list[str]) -> tuple[int, int]:
    declared = {name.lower(): col for name, col in manifest_node.get("columns", {}).items()}
    total = described = 0
    for name in catalog_node["columns"]:
        total += 1
        if _described(declared.get(name.lower(), {}).get("description")):
            described += 1
        else:
            undescribed.append(f"{label}.{name}")
    return total, described


def _has_freshness(source: dict) -> bool:
    fresh = source.get("freshness") or {}
    return any((fresh.get(k) or {}).get("count") for k in ("warn_after", "error_after"))


def _exempt_reason(source: dict) -> str | None:
    for meta in ((source.get("config") or {}).get("meta") or {}, source.get("meta") or {},
                 source.get("source_meta") or {}):
        reason = meta.get("freshness_exempt")
        if _described(reason):
            return " ".join(str(reason).split())
    return None


def _primary_key_tested(tests: list[dict]) -> bool:
    by_column: dict[str, set[str]] = {}
    for t in tests:
        name = t.get("test_metadata", {}).get("name")
        if name == "unique_combination_of_columns":
            return True
        column = t.get("column_name")
        if column and name in ("unique", "not_null"):
            by_column.setdefault(column, set()).add(name)
    return any(kinds == {"unique", "not_null"} for kinds in by_column.values())


def measure(manifest: dict, catalog: dict) -> Coverage:
    """The figures of one manifest/catalog pair (see the module docstring)."""
    cov = Coverage()
    models = {uid: n for uid, n in manifest["nodes"].items()
              if n["resource_type"] == "model" and n["package_name"] == PROJECT}
    sources = {uid: s for uid, s in manifest["sources"].items() if s["package_name"] == PROJECT}
    missing = sorted(uid for uid in models if uid not in catalog["nodes"])
    missing += sorted(uid for uid in sources if uid not in catalog["sources"])
    if missing:
        raise CoverageError(f"{len(missing)} relations are not in the catalog (build them first): "
                            f"{', '.join(missing[:5])}")
    cov.models = len(models)
    for uid, node in models.items():
        if _described(node.get("description")):
            cov.models_described += 1
        else:
            cov.undescribed.append(node["name"])
        total, described = _columns_described(catalog["nodes"][uid], node, node["name"], cov.undescribed)
        cov.model_columns += total
        cov.model_columns_described += described
    cov.sources = len(sources)
    for uid, src in sorted(sources.items()):
        label = f"{src['source_name']}.{src['name']}"
        total, described = _columns_described(catalog["sources"][uid], src, label, cov.undescribed)
        cov.source_columns += total
        cov.source_columns_described += described
        if _has_freshness(src):
            cov.sources_with_freshness += 1
        elif (reason := _exempt_reason(src)) is not None:
            cov.freshness_exempt[label] = reason
        else:
            cov.sources_without_freshness_or_reason.append(label)
    tests_of: dict[str, list[dict]] = {uid: [] for uid in models}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or node["package_name"] != PROJECT:
            continue
        cov.data_tests += 1
        for parent in node["depends_on"]["nodes"]:
            if parent in tests_of and (node.get("attached_node") in (None, parent)):
                tests_of[parent].append(node)
    counts = [len(t) for t in tests_of.values()]
    cov.tests_per_model_min = min(counts) if counts else 0
    cov.tests_per_model_median = float(statistics.median(counts)) if counts else 0.0
    cov.models_without_primary_key_test = sorted(models[uid]["name"] for uid, t in tests_of.items()
                                                 if not _primary_key_tested(t))
    return cov


def _pct(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.0f}%)" if whole else "0/0"


def render(cov: Coverage) -> str:
    """The page docs/dbt-coverage.md (deterministic: no dates, so --check can compare it)."""
    lines = [
        "# dbt documentation coverage",
        "",
        "Measured from dbt's `manifest.json` and `catalog.json` (project nodes only) by",
        "`uv run python -m python_jobs.docs_coverage`, which regenerates this page;",
        "`tests/python/dbt/test_docs_coverage.py` fails when a figure drops or the page is out of date.",
        "Columns are counted in the catalog (what the built relation has), so a column missing from",
        "the YAML counts as undescribed.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| models described | {_pct(cov.models_described, cov.models)} |",
        f"| model columns described | {_pct(cov.model_columns_described, cov.model_columns)} |",
        f"| source columns described | {_pct(cov.source_columns_described, cov.source_columns)} |",
        f"| source tables with freshness | {_pct(cov.sources_with_freshness, cov.sources)} |",
        f"| source tables exempt from freshness, with the reason | {len(cov.freshness_exempt)} |",
        f"| source tables with neither | {len(cov.sources_without_freshness_or_reason)} |",
        f"| data tests | {cov.data_tests} |",
        f"| data tests per model (min / median) | {cov.tests_per_model_min} / {cov.tests_per_model_median:g} |",
        f"| models without a primary-key test | {len(cov.models_without_primary_key_test)} |",
        "",
        "## Sources without freshness, and why",
        "",
        "| source | reason (`meta.freshness_exempt`) |",
        "|---|---|",
        *[f"| `{name}` | {reason} |" for name, reason in sorted(cov.freshness_exempt.items())],
        "",
    ]
    if cov.undescribed:
        lines += ["## Undescribed", "", *[f"- `{n}`" for n in sorted(cov.undescribed)], ""]
    if cov.models_without_primary_key_test:
        lines += ["## Models without a primary-key test", "",
                  *[f"- `{n}`" for n in cov.models_without_primary_key_test], ""]
    return "\n".join(lines)


def generate_artifacts(workdir: Path, home: Path = PROJECT_ROOT) -> tuple[dict, dict]:
    """(manifest, catalog) of the project built empty in a private warehouse under ``workdir``."""
    from python_jobs.dbt_runner import run_dbt

    settings = Settings(home=home, warehouse_dir=workdir, duckdb_path=workdir / "coverage.duckdb", dbt_target="ci")
    run_dbt(["build", "--empty", "--exclude", "resource_type:unit_test"], settings)
    run_dbt(["docs", "generate"], settings)
    target = settings.dbt_target_path
    return (json.loads((target / "manifest.json").read_text()), json.loads((target / "catalog.json").read_text()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m python_jobs.docs_coverage", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the page is out of date (write nothing)")
    parser.add_argument("--output", type=Path, default=PROJECT_ROOT / PAGE)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="nba-props-coverage-") as tmp:
        manifest, catalog = generate_artifacts(Path(tmp))
    page = render(measure(manifest, catalog))
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != page:
            print(f"{args.output} is out of date: run `uv run python -m python_jobs.docs_coverage`", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date")
        return 0
    args.output.write_text(page)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Run every benchmark module and write the figures to a JSON file.

Usage: ``uv run python -m python_jobs.bench [--only build,ml] [--output bench/results.json]``.
Each module runs in its own fresh warehouse directory under ``bench/work/<module>``; peak memory
(max RSS of this process and its children) is recorded per module.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import pkgutil
import platform
import resource
import shutil
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

import python_jobs.bench as bench_pkg
from python_jobs.config import PROJECT_ROOT, Settings

ORDER = ["build", "ingest", "features", "ml", "ops", "day", "report"]


def _peak_rss_mib() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, kids) / 1024, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", default="", help="comma-separated module names")
    parser.add_argument("--output", default=str(PROJECT_ROOT / "bench" / "results.json"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    available = {m.name for m in pkgutil.iter_modules(bench_pkg.__path__) if not m.name.startswith("_")}
    wanted = [m for m in args.only.split(",") if m] or sorted(available, key=lambda n: (ORDER.index(n) if n in ORDER else 99, n))
    results: dict[str, object] = {
        "generated_at": datetime.now(UTC).isoformat(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "modules": {},
    }
    failed = False
    for name in wanted:
        if name not in available:
            raise SystemExit(f"unknown benchmark module {name!r}; available: {sorted(available)}")
        work = PROJECT_ROOT / "bench" / "work" / name
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        settings = Settings(home=PROJECT_ROOT, warehouse_dir=work, dbt_target="dev")
        started = time.perf_counter()
        print(f"[bench] {name} ...", flush=True)
        try:
            figures = importlib.import_module(f"python_jobs.bench.{name}").run(settings)
            status = "ok"
        except Exception as exc:  # a failing benchmark is recorded with its traceback, and the run fails
            figures = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
            status = "failed"
            failed = True
        figures = dict(figures)
        figures["status"] = status
        figures["module_seconds"] = round(time.perf_counter() - started, 3)
        figures["peak_rss_mib_so_far"] = _peak_rss_mib()
        results["modules"][name] = figures
        print(f"[bench] {name}: {json.dumps(figures, default=str)[:2000]}", flush=True)
    out = Path(args.output)
    # merge: the modules not run this time keep their last figures (``--only`` reruns a few)
    previous = json.loads(out.read_text()).get("modules", {}) if out.exists() else {}
    results["modules"] = {**previous, **results["modules"]}
    results["peak_rss_mib"] = max([_peak_rss_mib()] + [m.get("peak_rss_mib_so_far", 0) for m in results["modules"].values()
                                                      if isinstance(m, dict)])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"[bench] wrote {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Screenshot of the report for the README, from the warehouse's real data.

``uv run python -m python_jobs.report.screenshot --date 2025-03-20 --output docs/img/report.png``
generates the report for the date into a temporary folder (or uses ``--site DIR``), opens a page
in headless Chromium from disk and saves a PNG.
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import date
from pathlib import Path

from python_jobs.config import get_settings
from python_jobs.report.browser import PageErrors, chromium, wait_for_plots
from python_jobs.report.generator import generate_report


def screenshot(site_dir: Path, output: Path, page_name: str = "index.html", width: int = 1400, height: int = 900,
               full_page: bool = False) -> Path:
    """Open ``site_dir/page_name`` and save a PNG; raises RuntimeError on page errors."""
    target = (site_dir / page_name).resolve()
    if not target.is_file():
        raise FileNotFoundError(target)
    output.parent.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=1)
        errors = PageErrors()
        errors.attach(page)
        page.goto(target.as_uri())
        page.wait_for_load_state("load")
        wait_for_plots(page)
        if errors.messages:
            raise RuntimeError(f"{target}: " + "; ".join(errors.messages))
        page.screenshot(path=str(output), full_page=full_page)
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--date", required=True, type=date.fromisoformat, help="game date of the report")
    parser.add_argument("--output", required=True, type=Path, help="PNG file to write")
    parser.add_argument("--site", type=Path, help="an already generated site (default: generate one)")
    parser.add_argument("--page", default="index.html", help="page of the site (index.html, performance.html, ...)")
    parser.add_argument("--full-page", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="nba-props-report-") as tmp:
        site = args.site or generate_report(get_settings(), args.date, output_dir=Path(tmp) / "site").output_dir
        out = screenshot(site, args.output, args.page, full_page=args.full_page)
    print(f"Screenshot: {out.resolve()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

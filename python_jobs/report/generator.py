"""Generate the static report site for one game date.

Layout of the output folder (self-contained; relative links only, opens from file://)::

    index.html          Today: the picks table (sortable, filterable)
    performance.html    graded history + walk-forward backtest
    players.html        list of players with a line that date
    players/<id>.html   one page per player with a line
    health.html         data health (links data_docs/index.html: the GX checkpoint of the date)
    assets/plotly.min.js  plotly.js, written once and shared by every page

With the default output (``settings.report_dir/<date>``) the site is also copied to
``settings.report_dir/latest`` and ``settings.report_dir/index.html`` lists every generated date.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import jinja2

from python_jobs.config import Settings
from python_jobs.report import charts, pages
from python_jobs.report.backtest import Backtest, default_backtest_path, load_backtest
from python_jobs.report.warehouse import Warehouse

log = logging.getLogger(__name__)
PACKAGE_DIR = Path(__file__).resolve().parent


@dataclass
class ReportResult:
    report_date: date
    output_dir: Path
    index_path: Path
    pages: list[Path] = field(default_factory=list)
    n_predictions: int = 0
    n_players: int = 0
    backtest_path: Path | None = None
    latest_dir: Path | None = None
    seconds: float = 0.0

    def __str__(self) -> str:
        return str(self.index_path)


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(PACKAGE_DIR / "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _load_backtest(settings: Settings, backtest: Path | None) -> tuple[Backtest | None, str | None]:
    """An explicit ``--backtest`` file must load (errors propagate); the default newest file is
    optional, and a broken one is explained on the page."""
    if backtest is not None:
        return load_backtest(backtest), None
    found = default_backtest_path(settings)
    if found is None:
        return None, None
    try:
        return load_backtest(found), None
    except ValueError as exc:  # shown on the page: the rest of the report is still useful
        log.warning("backtest file not shown: %s", exc)
        return None, f"The newest backtest file could not be shown: {exc}"


def _write_assets(output_dir: Path) -> None:
    """plotly.js (offline, written once per site), the stylesheet and the table script."""
    assets = output_dir / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    target = assets / "plotly.min.js"
    js = charts.plotly_js()
    if not target.exists() or target.stat().st_size != len(js.encode()):
        target.write_text(js, encoding="utf-8")
    for name in ("report.css", "report.js"):
        shutil.copyfile(PACKAGE_DIR / "static" / name, assets / name)


def generate_report(settings: Settings, report_date: date, output_dir: Path | None = None,
                    backtest: Path | None = None) -> ReportResult:
    """Write the site for ``report_date`` and return where it is."""
    started = time.perf_counter()
    default_output = output_dir is None
    out = (settings.report_dir / report_date.isoformat()) if output_dir is None else Path(output_dir)
    out = out.resolve()
    bt, bt_note = _load_backtest(settings, backtest)
    now = settings.utcnow()
    env = _env()
    common = {
        "report_date": report_date.isoformat(),
        "generated_at": now.strftime("%Y-%m-%d %H:%M UTC"),
    }
    written: list[Path] = []

    def render(template: str, path: Path, **ctx: object) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(env.get_template(template).render(**common, **ctx), encoding="utf-8")
        written.append(path)

    with Warehouse.open(settings) as wh:
        today = pages.build_today(wh, report_date)
        players = pages.build_players(wh, report_date, today["player_ids"], today.get("names", {}))
        performance = pages.build_performance(wh, report_date, bt, bt_note)
        health = pages.build_health(wh, report_date, now, data_docs=_data_docs(settings, report_date, out))

    # a re-generation replaces the previous site of that date (stale player pages must not linger)
    if out.exists():
        for stale in ("players",):
            shutil.rmtree(out / stale, ignore_errors=False) if (out / stale).exists() else None
    out.mkdir(parents=True, exist_ok=True)
    _write_assets(out)
    render("today.html", out / "index.html", title="Today", page="today", root="", has_plots=False, today=today)
    render("sections.html", out / "performance.html", title="Performance", page="performance", root="",
           has_plots=any(s.plots for s in performance["sections"]), heading=f"Performance up to {report_date}",
           subheading="Graded history from grading.prediction_accuracy (predictions joined to actual points) and the "
                      "walk-forward backtest. Break-even hit rate at −110 is 52.38%.",
           notes=performance["notes"], sections=performance["sections"])
    render("sections.html", out / "health.html", title="Data health", page="health", root="",
           has_plots=any(s.plots for s in health["sections"]), heading=f"Data health for {report_date}",
           subheading="Sources, quarantine, duplicates, coverage SLO and pipeline runs.", notes=[],
           sections=health["sections"])
    render("players.html", out / "players.html", title="Players", page="players", root="", has_plots=False,
           players=players, n_games=pages.PLAYER_HISTORY_GAMES)
    for p in players:
        render("player.html", out / "players" / f"{p['player_id']}.html", title=p["player_name"], page="players",
               root="../", has_plots=True, p=p)

    result = ReportResult(report_date=report_date, output_dir=out, index_path=out / "index.html", pages=written,
                          n_predictions=today["summary"].get("predictions", 0), n_players=len(players),
                          backtest_path=bt.path if bt else None)
    if default_output:
        result.latest_dir = _publish_latest(settings, out)
    result.seconds = round(time.perf_counter() - started, 3)
    log.info("report for %s: %d pages, %d predictions, %d player pages in %.2fs -> %s", report_date, len(written),
             result.n_predictions, result.n_players, result.seconds, result.index_path)
    return result


def _data_docs(settings: Settings, report_date: date, out: Path) -> str | None:
    """The GX checkpoint's Data Docs of the date (written by the daily run beside the default report,
    ``<report_dir>/<date>/data_docs``), copied into ``out`` when the site goes elsewhere; the link
    relative to the site, or None when the date was not validated."""
    # light: this module imports GX only inside the functions that validate
    from python_jobs.validation.gx_checkpoint import docs_dir_for

    docs = docs_dir_for(settings.report_dir, report_date)
    if not (docs / "index.html").exists():
        return None
    target = out / "data_docs"
    if docs.resolve() != target.resolve():
        shutil.copytree(docs, target, dirs_exist_ok=True)
    return "data_docs/index.html"


def _publish_latest(settings: Settings, out: Path) -> Path:
    """Copy the site to report_dir/latest and rewrite report_dir/index.html (list of dates)."""
    root = settings.report_dir.resolve()
    latest = root / "latest"
    if latest.exists():
        shutil.rmtree(latest)
    shutil.copytree(out, latest)
    dates = sorted((p.name for p in root.iterdir() if p.is_dir() and _is_date(p.name)), reverse=True)
    links = "\n".join(f'<li><a href="{d}/index.html">{d}</a></li>' for d in dates)
    (root / "index.html").write_text(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><link rel=\"icon\" href=\"data:,\">"
        "<title>nba-props reports</title><style>body{font:15px system-ui,sans-serif;margin:24px}</style></head>"
        f"<body><h1>nba-props daily reports</h1><p><a href=\"latest/index.html\">latest ({out.name})</a></p>"
        f"<ul>{links}</ul></body></html>\n", encoding="utf-8")
    return latest


def _is_date(name: str) -> bool:
    try:
        date.fromisoformat(name)
    except ValueError:
        return False
    return True

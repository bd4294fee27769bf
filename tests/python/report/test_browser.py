"""The generated site in headless Chromium (Playwright's sync API on the system Chromium).

Skipped when no Chromium binary exists on a developer machine; on CI (``CI=true``, where
.ci/browser-deps.sh installs it) a missing Chromium FAILS every test instead.
Screenshots are kept in test-artifacts/report/ (git-ignored).
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from python_jobs.config import PROJECT_ROOT, Settings
from python_jobs.report import browser as browser_mod
from python_jobs.report import generate_report
from python_jobs.report.browser import PageErrors, chromium, wait_for_plots
from tests.python.report import synthetic
from tests.python.report.conftest import synthetic_settings

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "report"
D = synthetic.REPORT_DATE
# page -> how many plots it must draw
PAGES = {"index.html": 0, "performance.html": 9, "health.html": 2, "players.html": 0, "players/201.html": 1}


@pytest.fixture(scope="module", autouse=True)
def _require_chromium() -> None:
    reason = browser_mod.missing_chromium_reason()
    if reason is None:
        return
    if browser_mod.ci_requires_browser():
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    root = tmp_path_factory.mktemp("report-browser")
    settings = synthetic_settings(root / "wh")
    backtest = root / "backtest.json"
    backtest.write_text(json.dumps(synthetic.backtest_doc()))
    return settings, generate_report(settings, D, output_dir=root / "site", backtest=backtest).output_dir


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser):
    p = browser.new_page(viewport={"width": 1400, "height": 900})
    errors = PageErrors()
    errors.attach(p)
    p.errors = errors
    yield p
    p.close()


@pytest.mark.parametrize("name, n_plots", PAGES.items())
def test_page_loads_without_errors_and_draws_every_plot(site, page, name: str, n_plots: int):
    _, out = site
    page.goto((out / name).as_uri())
    page.wait_for_load_state("load")
    drawn = wait_for_plots(page)
    assert drawn == n_plots
    assert page.locator("div.plotly-graph-div svg.main-svg").count() >= n_plots
    assert page.errors.messages == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name.replace('/', '_')}.png"), full_page=True)


def test_picks_table_has_one_row_per_player_and_filters(site, page):
    settings, out = site
    con = duckdb.connect(str(settings.database_path), read_only=True)
    n_players = con.execute("select count(distinct player_id) from predictions.player_prop_predictions "
                            "where game_date = ?", [D]).fetchone()[0]
    catboost_bets = con.execute("select count(*) from predictions.player_prop_predictions where game_date = ? and "
                                "system_id = 'catboost_v1' and recommendation in ('OVER', 'UNDER')",
                                [D]).fetchone()[0]
    con.close()
    page.goto((out / "index.html").as_uri())
    rows = page.locator("#picks tbody tr")
    visible = page.locator("#picks tbody tr:visible")
    pick_col = 1 + page.locator("#picks thead th").all_inner_texts().index("Pick")
    assert rows.count() == n_players == 6
    assert visible.count() == 5  # the player without a line (NO_LINE) hidden by default
    assert page.locator("#f-count").inner_text() == "5 of 6 players shown"
    page.uncheck("#f-hide-noline")
    assert visible.count() == 6
    page.check("#f-hide-noline")
    page.select_option("#f-rec", "BET")  # the agreed pick is a side
    assert sorted(visible.locator(f"td:nth-child({pick_col})").all_inner_texts()) == ["OVER", "OVER", "UNDER"]
    page.select_option("#f-system", "rolling_average_v1")  # now that system's own recommendation
    assert visible.count() == 1 and visible.locator("td:first-child").inner_text() == "Alpha Ace"
    page.select_option("#f-system", "catboost_v1")
    assert visible.count() == catboost_bets == 3
    page.select_option("#f-rec", "")
    page.select_option("#f-system", "")
    page.fill("#f-search", "charlie")
    assert visible.count() == 1
    page.fill("#f-search", "")
    page.check("#f-stale")
    assert visible.count() == 1 and visible.locator("td:first-child").inner_text() == "Charlie Clutch"
    page.uncheck("#f-stale")
    page.fill("#f-minconf", "60")
    assert visible.count() == 3  # the most confident system of each pick: 63, 60.5, 66
    page.fill("#f-minconf", "")
    # sorting by confidence (numeric, descending on the second click)
    header = page.locator("#picks thead th", has_text="Confidence")
    header.click()
    header.click()
    conf_col = 1 + page.locator("#picks thead th").all_inner_texts().index("Confidence")
    confs = [float(t) for t in visible.locator(f"td:nth-child({conf_col})").all_inner_texts()]
    assert confs == sorted(confs, reverse=True) and confs[0] == 66.0
    assert page.errors.messages == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "picks-sorted-by-confidence.png"))


def test_links_between_pages_work_from_disk(site, page):
    _, out = site
    page.goto((out / "index.html").as_uri())
    page.click("text=Alpha Ace >> nth=0")
    page.wait_for_load_state("load")
    assert page.url.endswith("/players/201.html")
    assert page.locator("h1").inner_text() == "Alpha Ace"
    page.click("nav >> text=Data health")
    assert page.url.endswith("/health.html")
    assert page.errors.messages == []


@pytest.mark.parametrize("name", ["index.html", "health.html", "performance.html", "players/201.html"])
def test_wide_tables_fit_their_box_and_nothing_is_clipped(site, page, name: str):
    """At a laptop width no table is wider than its box (a hidden horizontal overflow clipped the
    last columns, e.g. checked_at): text cells and headers wrap, numbers do not."""
    _, out = site
    page.set_viewport_size({"width": 1100, "height": 900})
    page.goto((out / name).as_uri())
    page.wait_for_load_state("load")
    overflow = page.evaluate("""() => Array.from(document.querySelectorAll('table')).map(t => {
        const box = t.parentElement;
        return {table: (t.id || t.querySelector('th') && t.querySelector('th').textContent) || '',
                width: t.getBoundingClientRect().width, box: box.clientWidth};
    }).filter(x => x.width > x.box + 1)""")
    assert overflow == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 1100
    assert page.errors.messages == []

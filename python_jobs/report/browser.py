"""Headless Chromium for the report: find the binary and drive it with Playwright's sync API.

Playwright is pointed at the system Chromium (Debian package ``chromium``, installed on CI by
``.ci/browser-deps.sh``) rather than at a browser it downloads, so nothing is fetched at test time.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome",
              "/usr/bin/google-chrome-stable")
# every plotly div is drawn once it holds its main svg (or a WebGL canvas)
PLOTS_DRAWN_JS = """() => Array.from(document.querySelectorAll('div.plotly-graph-div'))
  .every(d => d.querySelector('svg.main-svg, canvas') !== null)"""


def find_chromium() -> Path | None:
    """``NBA_PROPS_CHROMIUM`` if set, else the first system Chromium/Chrome found; None if none."""
    configured = os.environ.get("NBA_PROPS_CHROMIUM")
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise FileNotFoundError(f"NBA_PROPS_CHROMIUM={configured} does not exist")
        return path
    for candidate in (*CANDIDATES, shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def ci_requires_browser() -> bool:
    """On CI (``CI=true``) a missing Chromium is a failure, not a reason to skip."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def missing_chromium_reason() -> str | None:
    """None when a Chromium binary is there; else why the browser tests cannot run."""
    if find_chromium() is not None:
        return None
    return ("no Chromium binary (install the Debian package `chromium` with .ci/browser-deps.sh, "
            "or set NBA_PROPS_CHROMIUM)")


@dataclass
class PageErrors:
    """Console errors and uncaught exceptions seen by a page."""

    messages: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        page.on("console", lambda m: self.messages.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.messages.append(f"pageerror: {e}"))
        page.on("requestfailed", lambda r: self.messages.append(f"requestfailed: {r.url} {r.failure}"))


@contextmanager
def chromium(executable: Path | None = None) -> Iterator[Browser]:
    """A headless Chromium (raises FileNotFoundError when no binary is found)."""
    from playwright.sync_api import sync_playwright

    binary = executable or find_chromium()
    if binary is None:
        raise FileNotFoundError("no Chromium binary: install the Debian package `chromium` (.ci/browser-deps.sh) "
                                "or set NBA_PROPS_CHROMIUM")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(binary), headless=True)
        try:
            yield browser
        finally:
            browser.close()


def wait_for_plots(page: Page, timeout_ms: int = 15000) -> int:
    """Wait until every plotly div of the page is drawn; returns how many there are."""
    page.wait_for_function(PLOTS_DRAWN_JS, timeout=timeout_ms)
    return page.locator("div.plotly-graph-div").count()

"""Fixtures for the page tests: Debian's chromium via Playwright (the session's `browser`, from
tests/support/browser.py), on a `bh dev` (tests/support)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.dev_server import DevServer

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "docs" / "screenshots"


class Shots:
    """Screenshots of the pages: to ``docs/screenshots`` with ``UPDATE_SCREENSHOTS=1``, else to
    a temporary folder (taking them still checks that every page renders)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)

    def take(self, page: Any, name: str) -> Path:
        """Save what `page` shows as ``NAME.png``."""
        path = self.folder / f"{name}.png"
        page.screenshot(path=str(path))
        return path


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Shots:
    """Where page screenshots go."""
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        return Shots(SCREENSHOTS)
    return Shots(tmp_path_factory.mktemp("screenshots"))


@pytest.fixture
def page(browser: Any, server: DevServer) -> Iterator[Any]:
    """A chromium tab on the module's `server` (each page test module defines `server`); the
    test fails if a script on the page raised."""
    context = browser.new_context(
        base_url=server.url, viewport={"width": 1440, "height": 900}, locale="en-GB"
    )
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield tab
    finally:
        context.close()
    assert not errors, f"scripts failed on the page: {errors}"


def select_in_lineage(page: Any, *keys: str) -> None:
    """Click the first asset on the lineage canvas, then shift-click the others."""
    for i, key in enumerate(keys):
        point = page.evaluate(f"bhLineage.screenPoint('{key}')")
        if i:
            page.keyboard.down("Shift")
        page.mouse.click(point["x"], point["y"])
        if i:
            page.keyboard.up("Shift")


def other_host_requests(page: Any, server: DevServer, path: str) -> list[str]:
    """Open `path` and return the URLs it requested from any host but `server` (checking it
    requested its page, stylesheet and scripts at all)."""
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(path)
    page.wait_for_load_state("load")
    assert len(requested) >= 3  # the page, its stylesheet and its scripts
    return [u for u in requested if not u.startswith(server.url + "/")]


def playwright_expect() -> Any:
    """Playwright's `expect`, waiting up to 20 s."""
    from playwright.sync_api import expect

    # Code servers and runs are real processes; a loaded machine needs more than 5 s.
    expect.set_options(timeout=20_000)
    return expect

"""A location's reloads and health in headless chromium, over `bh dev` with file watching: the
toast a reload shows with what it changed (and the list behind it), the summary on the
location's row, and the location page's reload history and health chart.

One project, ``ui_bakery``: bread and a nightly schedule; the tests add an asset and remove the
schedule in its files, reload it, and restart its code server."""

from __future__ import annotations

import os
import re
import signal
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.dev_server import DevServer, start_dev_server, stop_dev_server
from tests.support.projects import write_project
from tests.support.waiting import eventually
from tests.web.conftest import Shots, playwright_expect as _expect

pytestmark = pytest.mark.slow

BREAD = """\
    import bakehouse as dg


    @dg.asset(code_version="1", metadata={"team": "bakers"})
    def bread() -> int:
        return 1


    nightly = dg.ScheduleDefinition(
        name="nightly", target=dg.AssetSelection.assets("bread"), cron_schedule="0 3 * * *"
    )
    """

BREAD_V2 = """\
    import bakehouse as dg


    @dg.asset(code_version="2", metadata={"team": "bakers"})
    def bread() -> int:
        return 1
    """

BUN = """\
    import bakehouse as dg


    @dg.asset(deps=["bread"])
    def bun() -> int:
        return 2
    """


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    root = write_project(
        tmp_path_factory.mktemp("health") / "ui_bakery", "ui_bakery", {"defs/bread.py": BREAD}
    )
    started = start_dev_server(root, watch=True)
    try:
        started.wait_loaded({"ui_bakery"})
        yield started
    finally:
        stop_dev_server(started)


def _defs(server: DevServer) -> Path:
    return server.root / "src" / "ui_bakery" / "defs"


def _location(server: DevServer) -> dict[str, Any]:
    rows: list[dict[str, Any]] = httpx.get(server.url + "/api/locations").json()
    return rows[0]


def test_a_file_change_shows_a_toast_with_the_diff_and_the_list_behind_it(
    page: Any, server: DevServer, shots: Shots
) -> None:
    expect = _expect()
    page.goto("/locations")
    row = page.locator("tr[data-location=ui_bakery]")
    expect(row.locator("[data-reload-summary]")).to_have_text("first load")
    # Written as one change (the bun first: bread's new version alone would be another diff).
    (_defs(server) / "bun.py").write_text(textwrap.dedent(BUN))
    (_defs(server) / "bread.py").write_text(textwrap.dedent(BREAD_V2))
    eventually(
        lambda: (
            (_location(server)["last_reload"] or {}).get("summary")
            == "+1 asset, \u22121 schedule, 1 changed"
        ),
        message="one reload adding bun, removing nightly and changing bread",
        timeout=60,
    )
    toast = page.locator("[data-reload-toast=ui_bakery]").last
    expect(toast).to_contain_text("ui_bakery reloaded (file change): +1 asset, \u22121 schedule")
    expect(toast).to_contain_text("1 changed. Click for the list.")
    expect(row.locator("[data-reload-summary]")).to_have_text(
        "+1 asset, \u22121 schedule, 1 changed"
    )
    shots.take(page, "locations-reload-toast")
    toast.click()
    dialog = page.locator("dialog#dialog")
    expect(dialog).to_be_visible()
    changes = dialog.locator("[data-reload-changes=ui_bakery] li")
    expect(changes).to_have_count(3)
    expect(changes.nth(0)).to_have_text("+ asset bun")
    expect(changes.nth(1)).to_have_text("\u2212 schedule nightly")
    expect(changes.nth(2)).to_have_text("~ asset bread: code_version 1 \u2192 2")
    shots.take(page, "locations-reload-changes")
    dialog.get_by_role("button", name="Close").click()


def test_the_reload_button_says_what_asked_and_that_nothing_changed(page: Any) -> None:
    expect = _expect()
    page.goto("/locations")
    row = page.locator("tr[data-location=ui_bakery]")
    expect(row.locator(".status-cell")).to_have_text("Loaded")
    row.get_by_role("button", name="Reload").click()
    toast = page.locator("[data-reload-toast=ui_bakery]").last
    expect(toast).to_have_text("ui_bakery reloaded (reload button): no changes.")
    expect(row.locator("[data-reload-summary]")).to_have_text("no changes")
    expect(row.locator("[data-reload-cell] .sub")).to_have_text("Reload button")
    # The row's health: load time and memory, the versions on hover.
    cell = row.locator("[data-health-cell]")
    expect(cell).to_contain_text(re.compile(r"\d+ (ms|s) · \d+ MB"))
    expect(cell).to_have_attribute("title", re.compile(r"^Python 3\.\d+\.\d+, bakehouse "))


def test_the_location_page_shows_history_health_and_chart(
    page: Any, server: DevServer, shots: Shots
) -> None:
    expect = _expect()
    # A restart after the code server is killed: the page counts it with its signal.
    pid = _location(server)["pid"]
    os.kill(pid, signal.SIGKILL)
    eventually(
        lambda: (row := _location(server))["health"]["restarts"] == 1 and row["status"] == "LOADED",
        message="the killed code server to be restarted",
    )
    page.goto("/locations")
    page.locator("tr[data-location=ui_bakery] .name-cell a").click()
    expect(page).to_have_url(server.url + "/locations/ui_bakery")
    health = page.locator("#location-health")
    expect(health.locator("[data-health=restarts]")).to_contain_text("1 · last exit SIGKILL")
    expect(health.locator("[data-health=load]")).to_have_text(re.compile(r"^\d+(\.\d)? ?(ms|s)$"))
    expect(health.locator("[data-health=rss]")).to_contain_text(" MB")
    expect(health.locator("[data-health=packages]")).to_contain_text("bakehouse")
    history = page.locator("#reload-history tbody tr")
    triggers = history.evaluate_all("rows => rows.map(r => r.dataset.trigger)")
    assert triggers[:3] == ["restart", "reload", "file_change"]
    assert triggers[-1] == "startup"
    changed = page.locator("#reload-history tr[data-trigger=file_change]").first
    expect(changed.locator("[data-summary]")).to_have_text("+1 asset, \u22121 schedule, 1 changed")
    expect(changed.locator("li[data-change=added]")).to_have_text("+ asset bun")
    expect(changed.locator("li[data-change=removed]")).to_have_text("\u2212 schedule nightly")
    expect(page.locator("#reload-history tr[data-trigger=restart] .pill")).to_have_text("SIGKILL")
    # One point per reload on each chart: memory and load time.
    for chart in ("memory", "load"):
        points = page.locator(f"figure[data-chart={chart}] circle")
        expect(points).to_have_count(len(triggers))
    shots.take(page, "location-health")


def test_a_failed_reload_shows_its_error_in_the_history(page: Any, server: DevServer) -> None:
    expect = _expect()
    definitions = server.root / "src" / "ui_bakery" / "definitions.py"
    definitions.write_text(definitions.read_text() + "\nraise RuntimeError('the oven is cold')\n")
    page.goto("/locations/ui_bakery")
    # Reloaded from the page (the file watcher may reload it too: either failure will do).
    page.locator("#location-reload-form button").click()
    failed = page.locator("#reload-history tr[data-loaded=false]").first
    expect(failed.locator(".error-message")).to_contain_text("RuntimeError: the oven is cold")
    assert failed.get_attribute("data-trigger") in ("reload", "file_change")
    failed.locator("summary").click()
    expect(failed.locator("pre.traceback")).to_contain_text("definitions.py")
    expect(page.locator("figure[data-chart=load] .failed-mark").first).to_be_visible()
    expect(page.locator("#toasts .toast-bad").first).to_contain_text("ui_bakery failed to load")

"""The Automation page in headless chromium, over `bh dev` as a real process: schedules and
sensors with their state, the on/off switch, live ticks and a failed tick's traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.dev_server import DevServer, running_dev_server
from tests.support.projects import write_project
from tests.web.conftest import Shots, playwright_expect as _expect

pytestmark = pytest.mark.slow

BAKERY = {
    "defs/automation.py": """\
        import bakehouse as dg

        days = dg.DailyPartitionsDefinition(start_date="2024-01-01")


        @dg.asset
        def loaf() -> int:
            return 1


        @dg.asset(partitions_def=days)
        def daily_sales(context) -> str:
            return context.partition_key


        bake = dg.define_asset_job("bake", selection=[loaf])
        sales = dg.define_asset_job("sales", selection=[daily_sales])
        nightly = dg.ScheduleDefinition(
            name="nightly", job=bake, cron_schedule="0 3 * * *",
            description="Bake the loaves before the shop opens.",
        )
        sales_schedule = dg.build_schedule_from_partitioned_job(sales, minute_of_hour=5)


        @dg.sensor(job=bake, minimum_interval_seconds=1,
                   default_status=dg.DefaultSensorStatus.RUNNING)
        def oven_thermometer(context):
            raise ValueError("the thermometer reads 9000 degrees")
        """
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    root = write_project(tmp_path_factory.mktemp("auto") / "bakery", "auto_bakery", BAKERY)
    with running_dev_server(root, loaded=set()) as dev:
        yield dev


def _bh(server: DevServer, *args: str) -> str:
    """Run ``bh ARGS`` in the project, as a user would beside the running bh dev."""
    done = subprocess.run(
        [sys.executable, "-m", "bakehouse", *args],
        cwd=server.root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _row(page: Any, name: str) -> Any:
    return page.locator(f"tr[data-instigator='auto_bakery:{name}']")


def test_the_page_lists_schedules_and_sensors_with_their_state(page: Any) -> None:
    expect = _expect()
    page.goto("/automation")
    expect(page.locator("nav a.active")).to_have_text("Schedules and sensors")
    nightly = _row(page, "nightly")
    expect(nightly).to_have_attribute("data-status", "STOPPED")
    expect(nightly).to_contain_text("0 3 * * *")
    expect(nightly).to_contain_text("job bake")
    expect(nightly.get_by_role("switch")).to_have_attribute("aria-checked", "false")
    expect(nightly.locator("[data-next-tick]")).to_have_text("—")  # off: no next tick

    partitioned = _row(page, "sales_schedule")
    expect(partitioned).to_contain_text("5 0 * * *")  # the daily partitions' cadence, at :05

    sensor = _row(page, "oven_thermometer")
    expect(sensor).to_have_attribute("data-status", "RUNNING")
    expect(sensor).to_contain_text("every 1 s")
    expect(sensor.get_by_role("switch")).to_have_attribute("aria-checked", "true")


def test_turning_a_schedule_on_from_the_page_stores_it(page: Any, server: DevServer) -> None:
    expect = _expect()
    page.goto("/automation")
    nightly = _row(page, "nightly")
    switch = nightly.get_by_role("switch", name="nightly (auto_bakery)")
    expect(switch).to_have_attribute("aria-checked", "false")
    switch.click()
    expect(page.locator(".toast")).to_contain_text("Schedule nightly turned on.")
    expect(nightly).to_have_attribute("data-status", "RUNNING")
    expect(nightly.locator("[data-next-tick] time")).to_contain_text("in ")

    # What the page did is what storage holds: the CLI and the API read it back.
    (listed,) = [s for s in json.loads(_bh(server, "schedule", "list", "--json"))
                 if s["name"] == "nightly"]  # fmt: skip
    assert listed["status"] == "RUNNING"
    assert listed["next_tick"] is not None
    api = httpx.get(server.url + "/api/automation", timeout=30).json()
    assert next(i for i in api if i["name"] == "nightly")["status"] == "RUNNING"

    # Turned off from the CLI, the page follows without a reload (the automation stream).
    _bh(server, "schedule", "stop", "nightly")
    expect(nightly).to_have_attribute("data-status", "STOPPED")
    expect(nightly.get_by_role("switch")).to_have_attribute("aria-checked", "false")


def test_a_switch_whose_request_fails_flips_back(page: Any) -> None:
    """The switch flips at once, before the server answers; when the server refuses, the row
    is fetched again and shown as stored (its HTML unchanged, so only a forced swap undoes the
    flip). The refusal is a real 404 from the server: the browser sends the switch's request to
    no such path. (The request is redirected in the browser rather than by editing the form,
    because a sensor's tick can swap the rows in, and a fresh form, at any moment.)"""
    expect = _expect()
    page.goto("/automation")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    nightly = _row(page, "nightly")
    switch = nightly.get_by_role("switch")
    before = switch.get_attribute("aria-checked")
    refused: list[str] = []

    def to_nowhere(route: Any) -> None:
        refused.append(route.request.url)
        route.continue_(url=page.url.split("/automation")[0] + "/api/no/such/switch")

    page.route("**/api/schedules/**", to_nowhere)
    # The switch as the refresh the failure asks for leaves it (a refresh for a sensor's tick
    # could come first, or later swap the rows in for its own news: neither counts).
    page.evaluate(
        """() => document.addEventListener("bh:refreshed", function seen(event) {
            if (!event.detail.forced) return;
            document.removeEventListener("bh:refreshed", seen);
            window.switchAfterFailure = document.querySelector(
                "tr[data-instigator='auto_bakery:nightly'] .switch"
            ).getAttribute("aria-checked");
        })"""
    )
    switch.click()
    expect(page.locator(".toast-bad")).to_be_visible()
    assert [url.rsplit("/", 2)[-2] for url in refused] == ["nightly"]
    page.wait_for_function("() => window.switchAfterFailure !== undefined")
    assert page.evaluate("() => window.switchAfterFailure") == before
    expect(switch).to_have_attribute("aria-checked", before)


def test_a_sensor_whose_evaluation_raises_shows_failed_ticks_with_the_traceback(
    page: Any, shots: Shots
) -> None:
    expect = _expect()
    page.goto("/automation")
    sensor = _row(page, "oven_thermometer")
    expect(sensor.locator("[data-last-tick] .pill")).to_have_text("Failure")
    panel = page.locator("details.ticks[data-key='auto_bakery:oven_thermometer']")
    expect(panel).to_have_attribute("open", "")  # a failing one opens on its ticks
    failed = panel.locator("tr[data-tick-status=FAILURE]").first
    expect(failed.locator(".error-message")).to_contain_text(
        "ValueError: the thermometer reads 9000 degrees"
    )
    traceback = failed.locator("pre.traceback")
    expect(traceback).to_be_hidden()
    failed.get_by_text("Traceback", exact=True).click()
    expect(traceback).to_be_visible()
    expect(traceback).to_contain_text("automation.py")
    expect(traceback).to_contain_text("raise ValueError")

    # New ticks arrive live (one a second) and the opened traceback stays open across them.
    newest = panel.locator("tr[data-tick-status] time").first
    before = newest.get_attribute("data-ts")
    expect(newest).not_to_have_attribute("data-ts", before or "")
    expect(panel.locator("tr[data-tick-status]").first.locator("pre.traceback")).to_be_visible()
    shots.take(page, "automation")


def test_the_switch_works_without_scripts(browser: Any, server: DevServer) -> None:
    context = browser.new_context(base_url=server.url, java_script_enabled=False)
    try:
        tab = context.new_page()
        tab.goto("/automation")
        row = tab.locator("tr[data-instigator='auto_bakery:sales_schedule']")
        assert row.get_attribute("data-status") == "STOPPED"
        row.get_by_role("switch").click()
        tab.wait_for_url(server.url + "/automation")
        row = tab.locator("tr[data-instigator='auto_bakery:sales_schedule']")
        assert row.get_attribute("data-status") == "RUNNING"
        row.get_by_role("switch").click()
        tab.wait_for_url(server.url + "/automation")
        assert (
            tab.locator("tr[data-instigator='auto_bakery:sales_schedule']").get_attribute(
                "data-status"
            )
            == "STOPPED"
        )
    finally:
        context.close()

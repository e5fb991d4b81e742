"""The pages in headless chromium, over `bh dev` as a real process with real code servers.

One workspace for the module: ``ui_mill`` (flour, sugar), ``ui_oven`` (bread, which depends on
flour across locations, and burnt, which fails) and ``ui_cake``, whose import raises.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.dev_server import DevServer, running_dev_server
from tests.support.projects import write_project, write_workspace
from tests.web.conftest import (
    Shots,
    other_host_requests,
    playwright_expect as _expect,
    select_in_lineage,
)

pytestmark = pytest.mark.slow

MILL = {
    "defs/mill.py": """\
        import bakehouse as dg


        @dg.asset(group_name="milling", kinds={"python"}, owners=["team:millers"])
        def flour() -> int:
            \"\"\"Stone-milled wheat flour, in grams.\"\"\"
            return 500


        @dg.asset(group_name="milling", kinds={"python"})
        def sugar() -> int:
            \"\"\"Cane sugar, in grams.\"\"\"
            return 200
        """
}
OVEN = {
    "defs/oven.py": """\
        import time
        from pathlib import Path

        import bakehouse as dg

        # bread bakes until the test opens the oven door (a file beside the workspace's
        # pyproject.toml), so a test sees a run that is still going for as long as it needs.
        OVEN_DOOR = Path(__file__).resolve().parents[4] / "oven-door"


        @dg.asset(
            deps=["flour"],
            group_name="baking",
            kinds={"python"},
            metadata={"recipe": dg.MetadataValue.md("Knead **well**, bake at *230 °C*.")},
        )
        def bread(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
            \"\"\"Loaves baked from the mill's flour.\"\"\"
            context.log.info("kneading the dough")
            deadline = time.monotonic() + 120
            while not OVEN_DOOR.exists():
                if time.monotonic() > deadline:
                    raise RuntimeError("nobody opened the oven door")
                time.sleep(0.05)
            context.log.info("baked 2 loaves")
            return dg.MaterializeResult(
                metadata={
                    "loaves": 2,
                    "note": dg.MetadataValue.md("**warm** loaves <script>alert(1)</script>"),
                    "preview": dg.MetadataValue.table(
                        [dg.TableRecord(loaf=1, grams=450), dg.TableRecord(loaf=2, grams=455)]
                    ),
                    "config": dg.MetadataValue.json({"oven": {"temperature_c": 230}}),
                    "docs": dg.MetadataValue.url("https://example.com/bread"),
                    "stored_at": dg.MetadataValue.path("/tmp/bread.parquet"),
                }
            )


        @dg.asset(group_name="baking", kinds={"python"})
        def burnt() -> None:
            raise RuntimeError("the crust is charcoal")
        """
}
BROKEN_CAKE = "import bakehouse as dg\n\nraise RuntimeError('the oven is cold')\n"
FIXED_CAKE = """\
import bakehouse as dg


@dg.asset(deps=["sugar"], group_name="cakes")
def cake() -> int:
    return 1
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    root = tmp_path_factory.mktemp("ui")
    write_project(root / "mill", "ui_mill", MILL)
    write_project(root / "oven", "ui_oven", OVEN)
    write_project(root / "cake", "ui_cake", {"defs/cake.py": BROKEN_CAKE}, defs_errors="fail")
    write_workspace(root, ["mill", "oven", "cake"])
    with running_dev_server(root, loaded=set()) as dev:  # the pages show locations loading
        yield dev


def _open_the_oven(server: DevServer) -> None:
    """Let every bread run, started or to come, finish."""
    (server.root / "oven-door").touch()


def _lineage(page: Any) -> None:
    page.goto("/lineage")
    page.wait_for_function("window.bhLineage && window.bhLineage.count >= 4")
    page.wait_for_selector("body[data-lineage=ready]", state="attached")


def test_locations_page_lists_each_location_with_its_status(page: Any, shots: Shots) -> None:
    expect = _expect()
    page.goto("/locations")
    rows = page.locator("tr[data-location]")
    # Locations may still be loading when the page opens; their states arrive by the stream.
    expect(page.locator("tr[data-location=ui_mill] .status-cell")).to_have_text("Loaded")
    expect(page.locator("tr[data-location=ui_oven] .status-cell")).to_have_text("Loaded")
    expect(page.locator("tr[data-location=ui_cake] .status-cell")).to_have_text("Failed")
    expect(rows).to_have_count(3)
    mill = page.locator("tr[data-location=ui_mill]")
    expect(mill.locator("td.num")).to_have_text("2")
    expect(mill).to_contain_text(re.compile(r"3\.\d+\.\d+"))  # the location's Python version
    expect(page.locator("[data-failed-badge]")).to_have_text("1")
    shots.take(page, "locations")


def test_view_error_shows_the_traceback_of_the_broken_location(page: Any, shots: Shots) -> None:
    expect = _expect()
    page.goto("/locations")
    cake = page.locator("tr[data-location=ui_cake]")
    expect(cake.locator(".status-cell")).to_have_text("Failed")
    cake.get_by_role("link", name="View error").click()
    dialog = page.locator("dialog#dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator(".error-message")).to_contain_text("RuntimeError: the oven is cold")
    traceback = dialog.locator("pre.traceback")
    expect(traceback).to_contain_text("Traceback (most recent call last)")
    expect(traceback).to_contain_text("cake.py")
    shots.take(page, "locations-error")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()

    # Without scripts, the same link is a page with the traceback.
    page.goto("/locations/ui_cake/error")
    expect(page.locator("pre.traceback")).to_contain_text("the oven is cold")


def test_automation_page_says_how_to_add_a_schedule_when_there_is_none(page: Any) -> None:
    expect = _expect()
    page.goto("/automation")
    empty = page.locator("#automation .empty")
    expect(empty).to_contain_text("No schedules or sensors")
    expect(empty).to_contain_text("bh scaffold defs schedule nightly.py")
    # The broken location's schedules cannot be known: the page says so rather than hide it.
    expect(page.locator("[data-failed-location=ui_cake]")).to_contain_text("failed to load")


def test_lineage_draws_every_location_and_the_cross_location_edge(page: Any, shots: Shots) -> None:
    expect = _expect()
    _lineage(page)
    assert page.evaluate("bhLineage.count") == 4  # flour, sugar, bread, burnt
    assert page.evaluate("bhLineage.drawnNodes()") == 4
    assert page.evaluate("bhLineage.edgeDrawn('flour', 'bread')")
    # The broken location is named above the graph, with the way to its error.
    expect(page.locator("#lineage-notices")).to_contain_text("ui_cake")
    expect(page.locator("#lineage-notices")).to_contain_text("failed to load")

    # Search by key selects and centers the asset; its panel shows the cross-location parent.
    page.locator("#lineage-search").fill("bre")
    page.locator("#lineage-search").press("Enter")
    assert page.evaluate("bhLineage.selected") == ["bread"]
    panel = page.locator("#side-panel")
    expect(panel.locator("h2")).to_have_text("bread")
    expect(panel).to_contain_text("flour")
    expect(panel.locator(".tag-accent")).to_have_text("ui_mill")
    page.locator("#zoom-fit").click()
    shots.take(page, "lineage-selected")


def test_a_bad_selection_shows_the_apis_message(page: Any, server: DevServer) -> None:
    expect = _expect()
    _lineage(page)
    page.locator("#lineage-selection").fill("group:milling and (")
    page.locator("#lineage-selection").press("Enter")
    error = page.locator("#selection-error")
    expect(error).to_be_visible()
    message = httpx.get(
        server.url + "/api/assets", params={"selection": "group:milling and ("}
    ).json()["detail"]
    expect(error).to_have_text(message)

    page.locator("#lineage-selection").fill("group:milling")
    page.locator("#lineage-selection").press("Enter")
    expect(error).to_be_hidden()
    page.wait_for_function("bhLineage.count === 2")
    expect(page.locator("#materialize-all button")).to_have_text("Materialize all shown")


def test_materialize_selected_opens_the_run_and_its_log_streams_to_success(
    page: Any, server: DevServer, shots: Shots
) -> None:
    expect = _expect()
    _lineage(page)
    select_in_lineage(page, "bread", "flour")
    assert sorted(page.evaluate("bhLineage.selected")) == ["bread", "flour"]
    page.get_by_role("button", name="Materialize selected (2)").click()
    page.wait_for_url(re.compile(r"/runs/[0-9a-f-]{36}$"))
    rows_at_load = page.locator("#log tr").count()

    # The run is still going when its page opens; its events arrive by the stream.
    _open_the_oven(server)
    header = page.locator("#run-header h1 .pill")
    expect(header).to_have_text("Succeeded", timeout=60_000)
    page.wait_for_selector("body[data-run-stream=ended]", state="attached")
    log = page.locator("#log")
    expect(log.locator("tr[data-type=ASSET_MATERIALIZATION]")).to_have_count(2)
    expect(log.locator("tr[data-type=RUN_SUCCESS]")).to_have_count(1)
    assert page.locator("#log tr").count() > rows_at_load
    expect(log).to_contain_text("baked 2 loaves")
    expect(page.locator(".timeline-row[data-state=ok]")).to_have_count(2)

    # Filters: by step, and by level.
    page.locator("#filter-step").select_option("bread")
    expect(log.locator("tr:not([hidden])[data-step=flour]")).to_have_count(0)
    page.locator("#filter-step").select_option("")
    page.locator("#filter-level").select_option("INFO")
    expect(log.locator("tr:not([hidden])[data-level=DEBUG]")).to_have_count(0)
    page.locator("#filter-level").select_option("")
    shots.take(page, "run")


def test_a_failed_run_shows_its_traceback_and_re_executes_from_failure(
    page: Any, server: DevServer, shots: Shots
) -> None:
    expect = _expect()
    run_id = httpx.post(server.url + "/api/runs", json={"asset_keys": ["burnt"]}).json()["run_id"]
    page.goto(f"/runs/{run_id}")
    failure = page.locator("[data-failure]")
    expect(failure).to_contain_text("Step burnt failed", timeout=60_000)
    expect(failure.locator(".error-message")).to_contain_text("RuntimeError: the crust is charcoal")
    expect(failure.locator("pre.traceback")).to_contain_text("oven.py")
    expect(page.locator(".timeline-row[data-state=bad]")).to_have_count(1)
    shots.take(page, "run-failed")
    page.get_by_role("button", name="Re-execute from failure").click()
    page.wait_for_url(re.compile(r"/runs/(?!" + run_id + r")[0-9a-f-]{36}$"))
    expect(page.locator("#run-header")).to_contain_text("Re-execution of")


def test_a_long_runs_timeline_draws_its_first_window_on_the_whole_runs_axis(
    page: Any, server: DevServer
) -> None:
    from bakehouse.storage import EventRecord, EventType, Instance, RunRecord, RunStatus

    expect = _expect()
    steps = 350  # more than the timeline draws (300)
    home = server.root / ".bakehouse"
    assert home.is_dir()
    with Instance.for_home(home) as instance:
        instance.create_run(
            RunRecord(run_id="long-timeline", status=RunStatus.SUCCESS, created_at=1.0)
        )
        events = [EventRecord(run_id="long-timeline", event_type=EventType.RUN_START, timestamp=1)]
        for i in range(steps):
            for kind, dt in ((EventType.STEP_START, 0.0), (EventType.STEP_SUCCESS, 0.5)):
                events.append(
                    EventRecord(
                        run_id="long-timeline",
                        event_type=kind,
                        timestamp=2.0 + i + dt,
                        step_key=f"step_{i:03d}",
                    )
                )
        instance.store_events(events)
    page.goto("/runs/long-timeline")
    expect(page.locator(".timeline-row")).to_have_count(300)
    expect(page.locator("#timeline-note")).to_have_text("Steps 1\u2013300 of 350")
    # The axis is the whole run's: the last drawn step ends before its right edge.
    last = page.locator(".timeline-row[data-step=step_299] .bar")
    left = float(last.evaluate("b => parseFloat(b.style.left)"))
    assert 80 < left < 90, left


def test_lineage_statuses_update_live(page: Any, server: DevServer) -> None:
    _lineage(page)
    before = page.evaluate("bhLineage.state('sugar')")
    assert before == "never"
    run_id = httpx.post(server.url + "/api/runs", json={"asset_keys": ["sugar"]}).json()["run_id"]
    # No reload: the runs and materializations streams change the node.
    page.wait_for_function("bhLineage.state('sugar') === 'materialized'", timeout=60_000)
    assert server.wait_finished(run_id)["status"] == "SUCCESS"


def test_asset_page_shows_definition_lineage_and_rendered_metadata(
    page: Any, server: DevServer, shots: Shots
) -> None:
    expect = _expect()
    _open_the_oven(server)
    launched = httpx.post(server.url + "/api/runs", json={"asset_keys": ["bread"]})
    assert launched.status_code == 201, launched.text
    run_id = launched.json()["run_id"]
    assert server.wait_finished(run_id)["status"] == "SUCCESS"
    page.goto("/assets/bread")
    expect(page.locator("h1")).to_have_text("bread")
    expect(page.locator(".subtitle")).to_have_text("Loaves baked from the mill's flour.")
    live = page.locator("#asset-live")
    expect(live.locator(".pill").first).to_have_text("Materialized")
    # md as HTML (its raw HTML escaped), table as a table, json pretty, url a link, path code.
    note = live.locator(".md").filter(has_text="warm loaves")
    expect(note.locator("strong")).to_have_text("warm")
    expect(note.locator("script")).to_have_count(0)
    expect(note).to_contain_text("<script>")
    expect(live.locator("table.meta-table tbody tr")).to_have_count(2)
    expect(live.locator("pre.json")).to_contain_text('"temperature_c": 230')
    expect(live.locator("a[href='https://example.com/bread']")).to_be_visible()
    expect(live.locator("code.path")).to_have_text("/tmp/bread.parquet")
    expect(live.locator(f"a[href='/runs/{run_id}']").first).to_be_visible()
    # Definition metadata, source, and the upstream asset in another location.
    expect(page.locator(".meta-list").last.locator("em")).to_have_text("230 °C")
    expect(page.locator("code.path").filter(has_text="oven.py")).to_be_visible()
    upstream = page.locator("section.card").filter(has_text="Upstream")
    expect(upstream.locator("a")).to_have_text("flour")
    expect(upstream.locator(".tag-accent")).to_have_text("ui_mill")
    shots.take(page, "asset")

    page.get_by_role("button", name="Materialize").click()
    page.wait_for_url(re.compile(r"/runs/[0-9a-f-]{36}$"))


def test_runs_page_lists_runs_live(page: Any, server: DevServer, shots: Shots) -> None:
    expect = _expect()
    page.goto("/runs")
    first = page.locator("#runs tbody tr").first
    expect(first.locator("td").nth(5)).to_have_text("UI")
    count = page.locator("#runs tbody tr").count()
    run_id = httpx.post(server.url + "/api/runs", json={"asset_keys": ["sugar"]}).json()["run_id"]
    # The new run appears without a reload, and turns Succeeded.
    row = page.locator(f"tr[data-run='{run_id}']")
    expect(row.locator(".pill")).to_have_text("Succeeded", timeout=60_000)
    assert page.locator("#runs tbody tr").count() == count + 1
    expect(row.locator("td").nth(3)).to_have_text(re.compile(r"\d+(\.\d)? (ms|s)"))
    shots.take(page, "runs")
    page.get_by_role("link", name="Failed", exact=True).click()
    expect(page.locator("#runs tbody tr .pill").first).to_have_text("Failed")


def test_unknown_assets_and_runs_get_a_404_that_says_where_to_look(page: Any) -> None:
    expect = _expect()
    response = page.goto("/assets/brea")
    assert response.status == 404
    expect(page.locator(".empty h2")).to_contain_text("No asset brea")
    expect(page.get_by_role("link", name="bread")).to_have_attribute("href", "/assets/bread")
    response = page.goto("/runs/not-a-run")
    assert response.status == 404
    expect(page.locator(".empty")).to_contain_text("Runs is the list of every run")
    response = page.goto("/nowhere")
    assert response.status == 404
    assert page.goto("/").url.endswith("/lineage")


def test_reload_after_fixing_the_broken_location_turns_it_loaded(
    page: Any, server: DevServer, shots: Shots
) -> None:
    expect = _expect()
    page.goto("/locations")
    cake = page.locator("tr[data-location=ui_cake]")
    expect(cake.locator(".status-cell")).to_have_text("Failed")
    (server.root / "cake" / "src" / "ui_cake" / "defs" / "cake.py").write_text(
        textwrap.dedent(FIXED_CAKE)
    )
    cake.get_by_role("button", name="Reload").click()
    expect(cake.locator(".status-cell")).to_have_text("Loaded", timeout=60_000)
    expect(cake.get_by_role("link", name="View error")).to_have_count(0)
    expect(page.locator("[data-failed-badge]")).to_be_hidden()
    _lineage(page)
    assert page.evaluate("bhLineage.count") == 5
    assert page.evaluate("bhLineage.edgeDrawn('sugar', 'cake')")
    assert page.evaluate("bhLineage.state('burnt')") == "failed"
    assert page.evaluate("bhLineage.state('bread')") == "materialized"
    assert page.evaluate("bhLineage.state('cake')") == "never"
    shots.take(page, "lineage")


def test_a_failed_reload_keeps_serving_the_last_good_definitions_and_says_so(
    page: Any, server: DevServer, shots: Shots
) -> None:
    expect = _expect()
    cake_file = server.root / "cake" / "src" / "ui_cake" / "defs" / "cake.py"
    cake_file.write_text(textwrap.dedent(FIXED_CAKE))
    httpx.post(server.url + "/api/locations/ui_cake/reload", timeout=60).raise_for_status()
    _lineage(page)
    assert page.evaluate("bhLineage.count") == 5
    cake_file.write_text(BROKEN_CAKE)
    # Reload definitions from the lineage page: every location reloads, the cake fails again.
    page.get_by_role("button", name="Reload definitions").click()
    expect(page.locator(".toast-bad")).to_contain_text("ui_cake failed to load")
    notices = page.locator("#lineage-notices")
    expect(notices).to_contain_text("its last good definitions are still shown")
    assert page.evaluate("bhLineage.count") == 5  # cake still drawn, from the last good load

    page.goto("/locations")
    cake = page.locator("tr[data-location=ui_cake]")
    expect(cake.locator(".status-cell")).to_have_text("Failed")
    expect(cake.locator("[data-last-good]")).to_contain_text("Serving last good")
    expect(cake.locator("[data-last-good]")).to_contain_text("1 asset from the previous load")
    shots.take(page, "locations-last-good")


@pytest.mark.parametrize(
    "path", ["/locations", "/lineage", "/runs", "/assets/flour", "/automation"]
)
def test_pages_load_nothing_from_other_hosts(page: Any, server: DevServer, path: str) -> None:
    assert other_host_requests(page, server, path) == []


def test_a_page_works_without_scripts(browser: Any, server: DevServer) -> None:
    context = browser.new_context(base_url=server.url, java_script_enabled=False)
    try:
        tab = context.new_page()
        tab.goto("/runs")
        assert tab.locator("#runs tbody tr").count() >= 1
        tab.goto("/assets/flour")
        tab.get_by_role("button", name="Materialize").click()
        tab.wait_for_url(re.compile(r"/runs/[0-9a-f-]{36}$"))
        assert tab.locator("#log tr").count() >= 1
    finally:
        context.close()

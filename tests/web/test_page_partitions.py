"""Partitions and backfills in headless chromium, over `bh dev` as a real process: the asset
page's partition status bar, materializing one partition, the backfill dialog, and the
Backfills pages following a backfill the daemon drives to completion."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.dev_server import DevServer, running_dev_server
from tests.support.forms import browser_client, form_token
from tests.support.projects import write_project
from tests.support.waiting import eventually
from tests.web.conftest import (
    Shots,
    other_host_requests,
    playwright_expect as _expect,
    select_in_lineage,
)

pytestmark = pytest.mark.slow

SHOP = {
    "defs/sales.py": """\
        from pathlib import Path

        import bakehouse as dg

        days = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-06")
        MARKER = Path(__file__).parent / "failed_once"


        @dg.asset(partitions_def=days, description="Takings of one day.")
        def daily_sales(context: dg.AssetExecutionContext) -> int:
            # The 4th fails its first attempt, so the bar shows a failed partition.
            if context.partition_key == "2024-01-04" and not MARKER.exists():
                MARKER.write_text("x")
                raise ValueError("the till of 2024-01-04 is missing")
            context.add_output_metadata({"day": context.partition_key, "rows": 3})
            return 3


        @dg.asset
        def loaf() -> int:
            return 1
        """
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    root = write_project(tmp_path_factory.mktemp("parts") / "shop", "parts_shop", SHOP)
    with running_dev_server(root) as dev:
        yield dev


def _counts(page: Any) -> Any:
    return page.locator("[data-partition-counts]")


def test_the_api_lists_partitions_and_refuses_what_is_not_partitioned(server: DevServer) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        got = http.get("/api/assets/daily_sales/partitions")
        assert got.status_code == 200, got.text
        body = got.json()
        assert [p["key"] for p in body["partitions"]] == [
            "2024-01-01",
            "2024-01-02",
            "2024-01-03",
            "2024-01-04",
            "2024-01-05",
        ]
        assert {p["status"] for p in body["partitions"]} == {"missing"}
        assert body["counts"] == {"materialized": 0, "failed": 0, "in_progress": 0, "missing": 5}
        assert body["ranges"] == [
            {"status": "missing", "start": "2024-01-01", "end": "2024-01-05", "count": 5}
        ]
        assert "daily" in body["description"]
        assert http.get("/api/assets/loaf/partitions").status_code == 404
        assert "not partitioned" in http.get("/api/assets/loaf/partitions").json()["detail"]
        assert http.get("/api/assets/nope/partitions").status_code == 404

        # A partition the asset does not have, or a partition of an unpartitioned asset: 400.
        bad = http.post(
            "/api/runs", json={"asset_keys": ["daily_sales"], "partition_key": "2030-01-01"}
        )
        assert bad.status_code == 400
        assert "unknown partition key '2030-01-01'" in bad.json()["detail"]
        bad = http.post("/api/runs", json={"asset_keys": ["loaf"], "partition_key": "2024-01-01"})
        assert bad.status_code == 400
        assert "no selected asset is partitioned" in bad.json()["detail"]
        # A partitioned asset without a partition would fail in its step: refused up front.
        bad = http.post("/api/runs", json={"asset_keys": ["daily_sales"]})
        assert bad.status_code == 400
        assert "daily_sales is partitioned: give a partition key" in bad.json()["detail"]


def test_backfills_page_says_how_to_start_one(page: Any) -> None:
    expect = _expect()
    page.goto("/backfills")
    expect(page.locator("nav a.active")).to_have_text("Backfills")
    empty = page.locator("#backfills .empty")
    expect(empty).to_contain_text("No backfills yet")
    expect(empty).to_contain_text("bh launch --assets SEL --partition-range A...B")


def test_the_bar_shows_counts_and_materializing_a_partition_turns_it_green(
    page: Any, shots: Shots
) -> None:
    expect = _expect()
    page.goto("/assets/daily_sales")
    expect(_counts(page)).to_have_text(
        re.compile(r"0 materialized, 0 failed, 0 in progress, 5 missing\s+of 5")
    )
    segments = page.locator("[data-partition-bar] .pseg")
    expect(segments).to_have_count(1)
    expect(segments.first).to_have_attribute("title", "2024-01-01 … 2024-01-05 (5): missing")

    # Clicking the bar picks the partition under the pointer: the 2nd fifth is 2024-01-02.
    # The page's stream catches up when it connects and re-renders the card: a bar measured
    # just then is gone; measure the one that replaced it.
    box = eventually(
        segments.first.bounding_box, timeout=20, message="the partition bar did not settle"
    )
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] / 2)
    detail = page.locator("[data-partition-detail]")
    expect(detail).to_have_attribute("data-partition-detail", "2024-01-02")
    expect(detail.locator("[data-partition-state]")).to_have_text("Missing")

    detail.get_by_role("button", name="Materialize 2024-01-02").click()
    expect(page.locator(".toast")).to_contain_text("Run queued for partition 2024-01-02")
    # Live: the bar and the detail follow the run to its materialization.
    expect(_counts(page)).to_contain_text("1 materialized", timeout=60_000)
    expect(page.locator(".pseg[data-state=materialized]")).to_have_attribute(
        "title", "2024-01-02: materialized"
    )
    expect(detail.locator("[data-partition-state]")).to_have_text("Materialized")
    expect(detail).to_contain_text("rows")

    # The 4th fails its first run: its segment turns red.
    page.locator("#partition-key").fill("2024-01-04")
    page.get_by_role("button", name="Show").click()
    page.get_by_role("button", name="Materialize 2024-01-04").click()
    expect(_counts(page)).to_contain_text("1 failed", timeout=60_000)
    expect(page.locator(".pseg[data-state=failed]")).to_have_attribute(
        "title", "2024-01-04: failed"
    )
    expect(page.locator("[data-partition-bar] .pseg")).to_have_count(5)
    expect(detail.locator("[data-partition-run]")).to_be_visible()  # the run that failed
    expect(detail.locator("[data-partition-run] + .pill")).to_have_text("Failed")
    page.evaluate("window.scrollTo(0, 0)")
    shots.take(page, "asset-partitions")


def test_the_dialog_backfills_the_missing_and_failed_ones_to_completion(
    page: Any, shots: Shots
) -> None:
    expect = _expect()
    page.goto("/assets/daily_sales")
    page.get_by_role("link", name="Launch backfill…").click()
    dialog = page.locator("dialog#dialog")
    expect(dialog).to_be_visible()
    count = dialog.locator("[data-backfill-count]")
    expect(count).to_have_text("5 partitions will run")
    dialog.get_by_label("Missing and failed partitions only").check()
    expect(count).to_have_text("4 partitions will run")
    dialog.locator("[data-range-start]").select_option("2024-01-03")
    expect(count).to_have_text("3 partitions will run")
    dialog.locator("[data-range-start]").select_option("2024-01-05")
    dialog.locator("[data-range-end]").select_option("2024-01-01")
    expect(count).to_have_text("2024-01-05 comes after 2024-01-01")
    expect(dialog.get_by_role("button", name="Launch backfill")).to_be_disabled()
    dialog.locator("[data-range-start]").select_option("2024-01-01")
    dialog.locator("[data-range-end]").select_option("2024-01-05")
    expect(count).to_have_text("4 partitions will run")
    dialog.get_by_role("button", name="Launch backfill").click()

    # The backfill's page: the daemon inside bh dev launches a run per partition.
    expect(page).to_have_url(re.compile(r"/backfills/[a-z]{8}$"))
    expect(page.locator("[data-backfill-status]")).to_have_attribute(
        "data-backfill-status", "COMPLETED", timeout=120_000
    )
    rows = page.locator("#backfill-partitions tbody tr")
    expect(rows).to_have_count(4)
    assert rows.evaluate_all("rs => rs.map(r => r.dataset.partition)") == [
        "2024-01-01",
        "2024-01-03",
        "2024-01-04",
        "2024-01-05",
    ]
    expect(page.locator("#backfill-partitions [data-run-status=SUCCESS]")).to_have_count(4)
    expect(page.locator(".progress-text")).to_have_text("4 succeeded")
    shots.take(page, "backfill")
    backfill_id = page.url.rsplit("/", 1)[1]

    page.goto("/backfills")
    row = page.locator(f"tr[data-backfill='{backfill_id}']")
    expect(row).to_have_attribute("data-status", "COMPLETED")
    expect(row).to_contain_text("UI")
    expect(row.locator("td.num")).to_have_text("4")
    shots.take(page, "backfills")

    page.goto("/assets/daily_sales?partition=2024-01-04")
    expect(_counts(page)).to_have_text(
        re.compile(r"5 materialized, 0 failed, 0 in progress, 0 missing\s+of 5")
    )
    expect(page.locator("[data-partition-detail] [data-partition-state]")).to_have_text(
        "Materialized"
    )


def test_materialize_selected_on_lineage_picks_partitions_in_the_launchpad(page: Any) -> None:
    expect = _expect()
    page.goto("/lineage")
    page.wait_for_selector("body[data-lineage=ready]", state="attached")
    select_in_lineage(page, "daily_sales", "loaf")
    # A range is a backfill; an unpartitioned asset in the selection runs once, before the
    # partitions (loaf feeds none of them); the backfill's page shows its run as a row of its own.
    page.get_by_role("button", name="Materialize selected (2)").click()
    dialog = page.locator("dialog#dialog")
    expect(dialog.locator("[data-lp-unpartitioned]")).to_contain_text("loaf")
    dialog.get_by_label("First partition").select_option("2024-01-04")
    dialog.get_by_role("button", name="Launch backfill").click()
    expect(page).to_have_url(re.compile(r"/backfills/[a-z]{8}$"))
    expect(page.locator("[data-backfill-status]")).to_have_attribute(
        "data-backfill-status", "COMPLETED", timeout=120_000
    )
    rows = page.locator("#backfill-partitions tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first).to_have_attribute("data-unpartitioned", "before")
    expect(rows.first).to_contain_text("Unpartitioned, once before the partitions")
    expect(rows.first).to_contain_text("loaf")
    expect(page.locator("#backfill-partitions [data-run-status=SUCCESS]")).to_have_count(3)

    page.goto("/lineage")
    page.wait_for_selector("body[data-lineage=ready]", state="attached")

    select_in_lineage(page, "daily_sales")
    page.get_by_role("button", name="Materialize selected (1)").click()
    dialog = page.locator("dialog#dialog")
    expect(dialog.locator(".dialog-title")).to_have_text("Materialize daily_sales")
    expect(dialog.locator("[data-lp-partitions]")).to_contain_text("5 partitions")
    dialog.get_by_role("button", name="Close").click()


def test_the_forms_work_without_scripts_and_say_what_is_wrong(server: DevServer) -> None:
    with browser_client(server.url) as http:
        form = http.get("/backfills/new", params={"selection": 'key:"daily_sales"'})
        assert form.status_code == 200
        token = form_token(http)
        assert 'name="start"' in form.text
        assert "2024-01-05" in form.text
        # Everything is materialized now: "missing and failed only" leaves nothing.
        refused = http.post(
            "/backfills/new",
            data={
                "csrf_token": token,
                "selection": 'key:"daily_sales"',
                "mode": "range",
                "start": "2024-01-01",
                "end": "2024-01-05",
                "only": "failed_and_missing",
            },
        )
        assert refused.status_code == 400
        assert "nothing to backfill" in refused.text
        unknown = http.post(
            "/backfills/new",
            data={
                "csrf_token": token,
                "selection": 'key:"daily_sales"',
                "mode": "keys",
                "keys": "2024-02-30",
            },
        )
        assert unknown.status_code == 400
        assert "unknown partition key" in unknown.text
        assert http.get("/backfills/new", params={"selection": "loaf"}).status_code == 400

        launched = http.post(
            "/backfills/new",
            data={
                "csrf_token": token,
                "selection": 'key:"daily_sales"',
                "mode": "keys",
                "keys": "2024-01-02",
            },
        )
        assert launched.status_code == 303
        where = launched.headers["location"]
        assert re.fullmatch(r"/backfills/[a-z]{8}", where)
        assert http.get(where).status_code == 200
        assert http.get("/backfills/nope").status_code == 404

        run = http.post(
            "/materialize",
            params={"asset_key": "daily_sales", "partition_key": "2024-01-05"},
            data={"csrf_token": token},
        )
        assert run.status_code == 303
        assert run.headers["location"].startswith("/runs/")
        # The asset in the query string, not everything: the form's body is only its token.
        launched_run = http.get("/api" + run.headers["location"]).json()
        assert launched_run["asset_selection"] == ["daily_sales"]


def test_without_scripts_the_bar_links_and_the_backfill_form_posts(
    browser: Any, server: DevServer
) -> None:
    expect = _expect()
    context = browser.new_context(base_url=server.url, java_script_enabled=False)
    try:
        tab = context.new_page()
        tab.goto("/assets/daily_sales")
        tab.locator("[data-partition-bar] .pseg").first.click()  # a link to its first partition
        expect(tab).to_have_url(re.compile(r"\?partition=2024-01-01#partitions$"))
        expect(tab.locator("[data-partition-detail]")).to_have_attribute(
            "data-partition-detail", "2024-01-01"
        )
        tab.get_by_role("link", name="Launch backfill…").click()
        expect(tab).to_have_url(re.compile(r"/backfills/new\?selection="))
        tab.get_by_label("These keys").check()
        tab.locator("[data-chosen-keys]").fill("2024-01-03, 2024-01-01")
        tab.get_by_role("button", name="Launch backfill").click()
        expect(tab).to_have_url(re.compile(r"/backfills/[a-z]{8}$"))
        rows = tab.locator("#backfill-partitions tbody tr")
        assert rows.evaluate_all("rs => rs.map(r => r.dataset.partition)") == [
            "2024-01-01",
            "2024-01-03",
        ]
    finally:
        context.close()


@pytest.mark.parametrize(
    "path", ["/assets/daily_sales", "/backfills", '/backfills/new?selection=key:"daily_sales"']
)
def test_the_pages_load_nothing_from_other_hosts(page: Any, server: DevServer, path: str) -> None:
    assert other_host_requests(page, server, path) == []


def test_cancel_stops_a_running_backfill(page: Any, server: DevServer) -> None:
    expect = _expect()
    created = httpx.post(
        server.url + "/api/backfills", json={"selection": "daily_sales"}, timeout=60
    )
    assert created.status_code == 201, created.text
    backfill_id = created.json()["backfill_id"]
    page.on("dialog", lambda dialog: dialog.accept())  # "Cancel this backfill?"
    page.goto(f"/backfills/{backfill_id}")
    page.get_by_role("button", name="Cancel backfill").click()
    expect(page.locator(".toast")).to_contain_text(f"Backfill {backfill_id} is canceling.")
    status = page.locator("[data-backfill-status]")
    expect(status).to_have_attribute("data-backfill-status", "CANCELED", timeout=60_000)
    expect(page.get_by_role("button", name="Cancel backfill")).to_have_count(0)

    # Canceling it again is refused with the reason, on a page (no scripts needed).
    with browser_client(server.url) as http:
        again = http.post(f"/backfills/{backfill_id}/cancel", data={"csrf_token": form_token(http)})
    assert again.status_code == 409
    assert "nothing to cancel" in again.text


def test_a_live_refresh_keeps_the_partition_key_being_typed(page: Any) -> None:
    expect = _expect()
    page.goto("/assets/daily_sales")
    field = page.locator("#partition-key")
    field.fill("2024-01-0")
    # What a run finishing elsewhere does to the card: it is fetched again and replaced.
    page.evaluate(
        """() => new Promise((done) => {
            document.addEventListener("bh:refreshed", () => done(), { once: true });
            BH.refreshAll(true);  // swapped in even though nothing changed
        })"""
    )
    expect(field).to_have_value("2024-01-0")
    expect(field).to_be_focused()


def test_keys_typed_while_a_refresh_downloads_are_kept(page: Any) -> None:
    """The card's new HTML arrives in two parts (headers, then body); what is typed in between
    must survive the swap. The page's fetch is wrapped so that the body waits for the test."""
    expect = _expect()
    page.goto("/assets/daily_sales")
    # The stream's first connection refreshes every card; let that one finish first.
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    # Only the partitions card's fetch is held (the page's other card refreshes too), and
    # only its own refresh is awaited.
    page.evaluate(
        """() => {
            const card = document.getElementById("asset-partitions");
            const realFetch = window.fetch;
            window.fetch = async (url, ...rest) => {
                const response = await realFetch(url, ...rest);
                if (url !== card.dataset.src) return response;
                const body = await response.text();
                const gate = new Promise((open) => { window.releaseBody = open; });
                return { ok: response.ok, status: response.status,
                         text: async () => { await gate; return body; } };
            };
            window.cardRefreshed = new Promise((done) =>
                card.addEventListener("bh:refreshed", () => done(), { once: true }));
            BH.refreshAll(true);  // swapped in even though nothing changed
        }"""
    )
    page.wait_for_function("() => typeof window.releaseBody === 'function'")
    field = page.locator("#partition-key")
    field.fill("2024-01-0")
    page.evaluate("async () => { window.releaseBody(); await window.cardRefreshed; }")
    expect(field).to_have_value("2024-01-0")
    expect(field).to_be_focused()


def test_a_refresh_that_brings_nothing_new_leaves_the_card_alone(
    page: Any, server: DevServer
) -> None:
    """A live refresh whose HTML is what the card shows already does not replace the card (a
    dropdown open in it, text selected, stay as they are); one that brings news does."""
    expect = _expect()
    page.goto("/assets/loaf")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    # A mark on the card's first element: a swap would replace the element and lose it.
    page.evaluate(
        "() => { document.querySelector('#asset-live').firstElementChild.dataset.mark = 'kept'; }"
    )
    changed = page.evaluate(
        """() => new Promise((done) => {
            document.addEventListener("bh:refreshed", (e) => done(e.detail.changed),
                { once: true });
            BH.refreshAll();
        })"""
    )
    assert changed is False
    expect(page.locator("#asset-live [data-mark=kept]")).to_have_count(1)
    # A run of loaf is news: the stream's event brings the card again, and it is swapped in.
    created = httpx.post(server.url + "/api/runs", json={"asset_keys": ["loaf"]}, timeout=60)
    assert created.status_code == 201, created.text
    expect(page.locator("#asset-live [data-mark=kept]")).to_have_count(0, timeout=60_000)

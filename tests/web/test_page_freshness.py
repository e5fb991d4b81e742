"""Freshness, staleness and metadata through a running `bh dev`, in headless chromium: the
daemon's freshness policy verdict (an asset last updated 3 h ago under a 2 h fail window is
overdue), a freshness check its sensor runs, "unsynced" assets (upstream changed, code version
changed) on the asset page and the lineage, table metadata as tables, numeric metadata as a
plot, kinds as icons."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bakehouse.storage import EventRecord, EventType, Instance
from tests.support.api import finished_run
from tests.support.dev_server import DevServer, running_dev_server
from tests.support.projects import write_project
from tests.support.waiting import eventually
from tests.web.conftest import Shots, playwright_expect, select_in_lineage

pytestmark = pytest.mark.slow

# raw_orders' reason, minutes later or not.
OVERDUE = re.compile(r"last updated 3 h( \d+ min)? ago, fail window 2 h")

ASSETS = """\
    import time
    from datetime import timedelta

    import bakehouse as dg


    @dg.asset(
        kinds={"python"},
        freshness_policy=dg.FreshnessPolicy.time_window(
            fail_window=timedelta(hours=2), warn_window=timedelta(hours=1)
        ),
    )
    def raw_orders() -> int:
        return 1


    @dg.asset(
        deps=[raw_orders],
        kinds={"duckdb", "pandas"},
        code_version="CODE_VERSION",
        freshness_policy=dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=24)),
    )
    def clean_orders() -> dg.MaterializeResult:
        rows = int(time.time() * 1000) % 900 + 100
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": rows,
                "dagster/column_schema": dg.TableSchema(
                    columns=[
                        dg.TableColumn("id", "int"),
                        dg.TableColumn("amount", "float", description="in euros"),
                    ]
                ),
                "preview": dg.MetadataValue.table(
                    records=[dg.TableRecord({"id": 1, "amount": 9.5})]
                ),
            }
        )


    @dg.asset(deps=[clean_orders], kinds={"dbt"})
    def orders_report() -> None:
        pass


    (report_freshness,) = dg.build_last_update_freshness_checks(
        assets=[orders_report], lower_bound_delta=timedelta(hours=1)
    )
    freshness_sensor = dg.build_sensor_for_freshness_checks(
        freshness_checks=[report_freshness],
        minimum_interval_seconds=1,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    """


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    root = tmp_path_factory.mktemp("freshness") / "shop"
    write_project(root, "ui_fresh", {"defs/assets.py": ASSETS.replace("CODE_VERSION", "v1")})
    with running_dev_server(root, loaded={"ui_fresh"}) as dev:
        _materialize(dev, ["raw_orders", "clean_orders", "orders_report"])
        _materialize(dev, ["clean_orders"])
        _materialize(dev, ["orders_report"])
        # raw_orders last updated three hours ago (a materialization stored as a run would have
        # stored it, back then): overdue under its 2 h fail window, and newer than clean_orders.
        with Instance.for_home(root / ".bakehouse") as instance:
            instance.store_event(
                EventRecord(
                    run_id="backdated",
                    event_type=EventType.ASSET_MATERIALIZATION,
                    timestamp=time.time() - 3 * 3600 - 60,
                    asset_key="raw_orders",
                )
            )
        # clean_orders' code changes: it was materialized with v1.
        assets = root / "src" / "ui_fresh" / "defs" / "assets.py"
        assets.write_text(assets.read_text().replace('"v1"', '"v2"'))
        with dev.http() as http:
            assert http.post("/api/locations/ui_fresh/reload").status_code == 200
            eventually(
                lambda: http.get("/api/assets/clean_orders").json()["code_version"] == "v2" or None,
                message="the changed code version was not reloaded",
            )
        yield dev


def _materialize(server: DevServer, keys: list[str]) -> None:
    with server.http() as http:
        launched = http.post("/api/runs", json={"asset_keys": keys})
        assert launched.status_code == 201, launched.text
        assert finished_run(http, launched.json()["run_id"])["status"] == "SUCCESS"


def _asset(server: DevServer, key: str) -> dict[str, Any]:
    with server.http() as http:
        found: dict[str, Any] = http.get(f"/api/assets/{key}").json()
        return found


def test_the_api_says_overdue_with_the_reason_and_the_check_the_sensor_ran(
    server: DevServer,
) -> None:
    raw = eventually(
        lambda: (a := _asset(server, "raw_orders"))["freshness"]["state"] == "FAIL" and a,
        message="the freshness daemon did not find raw_orders overdue",
    )
    assert raw["freshness"]["label"] == "Overdue"
    assert OVERDUE.fullmatch(raw["freshness"]["reason"])
    report = eventually(
        lambda: (a := _asset(server, "orders_report"))["freshness"]["state"] == "PASS" and a,
        message="the freshness checks sensor did not run the report's check",
    )
    assert report["freshness"]["source"] == "freshness_check"
    assert _asset(server, "clean_orders")["freshness"]["state"] == "PASS"


def test_pages_show_freshness_staleness_metadata_plots_and_kind_icons(
    page: Any, server: DevServer, shots: Shots
) -> None:
    expect = playwright_expect()
    eventually(
        lambda: _asset(server, "raw_orders")["freshness"]["state"] == "FAIL" or None,
        message="raw_orders never became overdue",
    )
    eventually(
        lambda: _asset(server, "orders_report")["freshness"]["state"] == "PASS" or None,
        message="the report's freshness check never ran",
    )
    page.goto("/assets")
    row = page.locator("#catalog-body tr[data-key=raw_orders]")
    expect(row.locator("[data-freshness]")).to_have_text("Overdue")
    expect(row.locator("[data-freshness]")).to_have_attribute("title", OVERDUE)
    report = page.locator("#catalog-body tr[data-key=orders_report]")
    expect(report.locator("[data-freshness]")).to_have_text("Fresh")
    icon = page.locator("#catalog-body tr[data-key=orders_report] .kind-tag[data-kind=dbt]")
    expect(icon).to_have_text("dbt")
    assert "data:image/svg+xml" in icon.evaluate(
        "el => getComputedStyle(el, '::before').backgroundImage"
    )
    shots.take(page, "catalog-freshness")

    page.goto("/assets/raw_orders")
    card = page.locator("#asset-freshness")
    expect(card).to_have_attribute("data-freshness", "FAIL")
    expect(card.locator("tr[data-freshness-source=policy] .freshness-reason")).to_have_text(OVERDUE)
    expect(page.locator("[data-freshness-policy]")).to_have_text("fail after 2 h, warn after 1 h")
    shots.take(page, "asset-freshness")

    page.goto("/assets/clean_orders")
    unsynced = page.locator("#asset-unsynced")
    expect(unsynced).to_contain_text("upstream changed since this materialization: raw_orders")
    expect(unsynced).to_contain_text("code version changed: materialized with v1, now v2")
    plot = page.locator("#asset-plots tr[data-plot='dagster/row_count']")
    expect(plot.locator("svg.sparkline circle")).to_have_count(2)
    schema = page.locator("dd table.meta-table").first
    expect(schema).to_contain_text("amount")
    expect(schema).to_contain_text("in euros")
    expect(page.locator(".kind-tag[data-kind=duckdb]")).to_have_text("duckdb")
    # In one step in the page: the live part of the asset page may swap the card between a
    # locator's lookup and its scroll (seen once under load as "not attached to the DOM").
    page.evaluate("document.getElementById('asset-plots').scrollIntoView()")
    shots.take(page, "asset-metadata")

    page.goto("/lineage")
    page.wait_for_function("document.body.dataset.lineage === 'ready'")
    assert page.evaluate("bhLineage.unsynced('clean_orders')") == ["upstream", "code"]
    assert page.evaluate("bhLineage.unsynced('orders_report')") == []
    select_in_lineage(page, "clean_orders")
    sync = page.locator("#side-panel [data-unsynced]")
    expect(sync).to_contain_text("Unsynced")
    expect(sync).to_contain_text("code version changed")
    shots.take(page, "lineage-unsynced")

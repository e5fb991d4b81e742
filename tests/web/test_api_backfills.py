"""``/api/backfills`` on a real deployment: request, list with progress, read, cancel, and the
4xx answers to bad requests. The daemon is off here, so backfills stay as requested;
tests/daemon/test_backfills.py covers what the daemon does with them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bakehouse.host.deployment import Deployment
from bakehouse.project.workspace import find_workspace
from bakehouse.storage import Instance
from bakehouse.storage.records import EventRecord, EventType, RunRecord, RunStatus
from tests.support.projects import write_project
from tests.web.server import serve

pytestmark = pytest.mark.slow

SHOP = {
    "defs/sales.py": """\
        import bakehouse as dg

        daily = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-13")


        @dg.asset(partitions_def=daily)
        def sales(context: dg.AssetExecutionContext) -> str:
            return context.partition_key


        @dg.asset(partitions_def=daily)
        def sales_report(sales: str) -> str:
            return sales


        @dg.asset(partitions_def=dg.StaticPartitionsDefinition(["eu", "us"]))
        def regions() -> int:
            return 1


        @dg.asset
        def catalog() -> int:
            return 1
        """
}


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[tuple[httpx.Client, Instance]]:
    write_project(tmp_path / "shop", "bf_shop", SHOP)
    with Instance.for_home(tmp_path / ".bakehouse") as instance:
        deployment = Deployment(find_workspace(tmp_path / "shop"), instance, daemon=False)
        deployment.start()
        try:
            with serve(deployment) as url, httpx.Client(base_url=url, timeout=60) as http:
                yield http, instance
        finally:
            deployment.stop()


def _materialized(instance: Instance, asset: str, partition: str) -> None:
    """Record `partition` of `asset` as materialized by a finished run."""
    run_id = f"done-{asset}-{partition}"
    now = time.time()
    instance.create_run(
        RunRecord(
            run_id=run_id,
            status=RunStatus.SUCCESS,
            asset_selection=(asset,),
            partition_key=partition,
            created_at=now,
            updated_at=now,
        )
    )
    instance.store_event(
        EventRecord(
            run_id=run_id,
            event_type=EventType.ASSET_MATERIALIZATION,
            timestamp=now,
            asset_key=asset,
            partition_key=partition,
        )
    )


def test_request_a_range_then_list_read_and_cancel_it(
    shop: tuple[httpx.Client, Instance],
) -> None:
    http, _ = shop
    created = http.post(
        "/api/backfills",
        json={
            "selection": "sales+",
            "partition_range": {"start": "2024-01-03", "end": "2024-01-07"},
        },
    )
    assert created.status_code == 201, created.text
    backfill_id = created.json()["backfill_id"]

    listed = http.get("/api/backfills").json()
    assert [b["backfill_id"] for b in listed] == [backfill_id]
    row = listed[0]
    assert row["status"] == "REQUESTED"
    assert row["asset_selection"] == ["sales", "sales_report"]
    assert (row["total"], row["requested"], row["in_progress"], row["succeeded"]) == (5, 5, 0, 0)
    assert (row["first_partition"], row["last_partition"]) == ("2024-01-03", "2024-01-07")
    assert row["tags"]["bakehouse/launched_by"] == "ui"

    detail = http.get(f"/api/backfills/{backfill_id}").json()
    assert [p["partition_key"] for p in detail["partitions"]] == [
        "2024-01-03",
        "2024-01-04",
        "2024-01-05",
        "2024-01-06",
        "2024-01-07",
    ]
    assert {p["run_id"] for p in detail["partitions"]} == {None}

    canceled = http.post(f"/api/backfills/{backfill_id}/cancel")
    assert canceled.status_code == 200
    assert canceled.json()["status"] == "CANCELING"
    # Again: still canceling, not an error.
    assert http.post(f"/api/backfills/{backfill_id}/cancel").json()["status"] == "CANCELING"


def test_newest_first_keys_in_definition_order_and_all_partitions_by_default(
    shop: tuple[httpx.Client, Instance],
) -> None:
    http, _ = shop
    first = http.post("/api/backfills", json={"selection": "regions"}).json()["backfill_id"]
    second = http.post(
        "/api/backfills",
        json={"selection": "sales", "partition_keys": ["2024-01-09", "2024-01-02"]},
    ).json()["backfill_id"]
    assert [b["backfill_id"] for b in http.get("/api/backfills").json()] == [second, first]
    assert [
        p["partition_key"] for p in http.get(f"/api/backfills/{first}").json()["partitions"]
    ] == [
        "eu",
        "us",
    ]
    detail = http.get(f"/api/backfills/{second}").json()
    assert [p["partition_key"] for p in detail["partitions"]] == ["2024-01-02", "2024-01-09"]
    all_daily = http.post("/api/backfills", json={"selection": "sales"}).json()["backfill_id"]
    assert http.get(f"/api/backfills/{all_daily}").json()["total"] == 12


def test_only_missing_and_failed_and_missing(shop: tuple[httpx.Client, Instance]) -> None:
    http, instance = shop
    _materialized(instance, "sales", "2024-01-01")
    _materialized(instance, "sales", "2024-01-02")
    failed_run = "failed-sales-2024-01-03"
    now = time.time()
    instance.create_run(
        RunRecord(
            run_id=failed_run,
            status=RunStatus.FAILURE,
            asset_selection=("sales",),
            created_at=now,
            updated_at=now,
        )
    )
    instance.store_event(
        EventRecord(
            run_id=failed_run,
            event_type=EventType.ASSET_MATERIALIZATION_PLANNED,
            timestamp=now,
            asset_key="sales",
            partition_key="2024-01-03",
        )
    )
    span = {"start": "2024-01-01", "end": "2024-01-05"}

    def keys(only: str) -> list[str]:
        made = http.post(
            "/api/backfills", json={"selection": "sales", "partition_range": span, "only": only}
        )
        assert made.status_code == 201, made.text
        detail = http.get(f"/api/backfills/{made.json()['backfill_id']}").json()
        return [p["partition_key"] for p in detail["partitions"]]

    assert keys("missing") == ["2024-01-04", "2024-01-05"]
    assert keys("failed_and_missing") == ["2024-01-03", "2024-01-04", "2024-01-05"]
    # With sales_report selected too, a partition it misses is kept though sales has it.
    both = http.post(
        "/api/backfills",
        json={"selection": "sales, sales_report", "partition_range": span, "only": "missing"},
    ).json()["backfill_id"]
    assert http.get(f"/api/backfills/{both}").json()["total"] == 5
    nothing = http.post(
        "/api/backfills",
        json={"selection": "sales", "partition_keys": ["2024-01-01"], "only": "missing"},
    )
    assert nothing.status_code == 400
    assert "nothing to backfill" in nothing.json()["detail"]


def test_an_unpartitioned_asset_in_the_selection_is_one_run_of_its_own(
    shop: tuple[httpx.Client, Instance],
) -> None:
    http, _ = shop
    span = {"start": "2024-01-03", "end": "2024-01-04"}
    made = http.post(
        "/api/backfills", json={"selection": "sales, catalog", "partition_range": span}
    )
    assert made.status_code == 201, made.text
    detail = http.get(f"/api/backfills/{made.json()['backfill_id']}").json()
    assert (detail["total"], detail["requested"]) == (3, 3)
    # catalog feeds no partitioned asset: it runs once, before the partitions.
    assert [(p["partition_key"], p["assets"], p["label"]) for p in detail["partitions"]] == [
        (None, ["catalog"], "unpartitioned, before the partitions: catalog"),
        ("2024-01-03", [], "2024-01-03"),
        ("2024-01-04", [], "2024-01-04"),
    ]


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"selection": "nope"}, 400, "nope"),
        ({"selection": "catalog"}, 400, "none of the selected assets (catalog) is partitioned"),
        ({"selection": "sales, regions"}, 400, "do not share one partitions definition"),
        (
            {"selection": "sales", "partition_range": {"start": "2024-01-05", "end": "2024-13-01"}},
            400,
            "unknown partition key '2024-13-01'",
        ),
        ({"selection": "sales", "partition_keys": ["2024-01-40"]}, 400, "nearest: "),
        (
            {"selection": "sales", "partition_range": {"start": "2024-01-07", "end": "2024-01-03"}},
            400,
            "2024-01-07 comes after 2024-01-03",
        ),
        ({"selection": "sales", "partition_keys": []}, 400, "no partition keys given"),
        (
            {
                "selection": "sales",
                "partition_keys": ["2024-01-02"],
                "partition_range": {"start": "2024-01-01", "end": "2024-01-02"},
            },
            400,
            "not both",
        ),
        ({"selection": "sales", "only": "sometimes"}, 422, "only"),
    ],
)
def test_bad_requests_are_client_errors_that_say_why(
    shop: tuple[httpx.Client, Instance], body: dict[str, object], status: int, says: str
) -> None:
    http, _ = shop
    answer = http.post("/api/backfills", json=body)
    assert answer.status_code == status, answer.text
    assert says in answer.text
    assert http.get("/api/backfills").json() == []


def test_unknown_backfill_is_404_and_a_finished_one_cannot_be_canceled(
    shop: tuple[httpx.Client, Instance],
) -> None:
    http, instance = shop
    assert http.get("/api/backfills/nope").status_code == 404
    assert http.post("/api/backfills/nope/cancel").status_code == 404
    backfill_id = http.post("/api/backfills", json={"selection": "regions"}).json()["backfill_id"]
    instance.update_backfill(backfill_id, status="COMPLETED")
    refused = http.post(f"/api/backfills/{backfill_id}/cancel")
    assert refused.status_code == 409
    assert "COMPLETED already" in refused.json()["detail"]

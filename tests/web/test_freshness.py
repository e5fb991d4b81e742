"""`web.freshness` and the catalog's freshness column: what the daemon stored for a policy and
what a freshness check reported, read back from real storage (SQLite) as badges with reasons."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bakehouse.daemon.freshness import FreshnessDaemon
from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.protocol.snapshot import (
    AssetCheckSnap,
    AssetNodeSnap,
    FreshnessPolicySnap,
    LocationSnap,
)
from bakehouse.storage import EventRecord, EventType, Instance
from bakehouse.web.catalog import catalog_rows, page_payload
from bakehouse.web.freshness import views_of
from tests.support.materializations import store_materialization

HOUR = 3600.0
T0 = 1_700_000_000.0
PARAMS = {"type": "json", "value": {"lower_bound_delta_seconds": 7200.0, "timezone": "UTC"}}

GRAPH = GlobalAssetGraph(
    [
        LocationSnap(
            name="loc",
            assets=(
                AssetNodeSnap(
                    key="orders",
                    step_key="orders",
                    freshness_policy=FreshnessPolicySnap(
                        kind="time_window", fail_window_seconds=2 * HOUR
                    ),
                ),
                AssetNodeSnap(key="clicks", step_key="clicks"),
                AssetNodeSnap(key="plain", step_key="plain"),
            ),
            asset_checks=(
                AssetCheckSnap(
                    name="freshness_check",
                    asset_key="clicks",
                    metadata={"dagster/freshness_params": PARAMS},
                ),
            ),
        )
    ]
)


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[Instance]:
    with Instance.for_home(tmp_path / "home") as inst:
        yield inst


def test_the_catalog_shows_an_overdue_policy_and_a_failed_freshness_check_with_reasons(
    instance: Instance,
) -> None:
    store_materialization(instance, "orders", T0)
    FreshnessDaemon(instance, lambda: GRAPH, clock=lambda: T0 + 3 * HOUR).tick()
    instance.store_event(
        EventRecord(
            run_id="run-clicks",
            event_type=EventType.ASSET_CHECK_EVALUATION,
            timestamp=T0,
            asset_key="clicks",
            data={
                "check_name": "freshness_check",
                "passed": False,
                "severity": "WARN",
                "description": "Asset is overdue.",
                "metadata": {
                    "dagster/freshness_params": PARAMS,
                    "dagster/last_updated_timestamp": {"type": "timestamp", "value": T0 - HOUR},
                },
            },
        )
    )
    rows = {r.key: r for r in catalog_rows(instance, GRAPH)}
    orders, clicks = rows["orders"].freshness, rows["clicks"].freshness
    assert orders is not None
    assert clicks is not None
    assert (orders.state, orders.label, orders.source) == ("FAIL", "Overdue", "policy")
    assert orders.reason.endswith("fail window 2 h")
    assert (clicks.state, clicks.label, clicks.source) == ("WARN", "Stale", "freshness_check")
    assert clicks.reason.endswith("allowed 2 h")
    assert rows["plain"].freshness is None
    payload = page_payload(list(rows.values()))
    column = payload["fields"].index("freshness")
    by_key = {row[0]: row[column] for row in payload["rows"]}
    assert by_key["orders"][:2] == ["FAIL", "Overdue"]
    assert by_key["plain"] is None


def test_a_policy_the_daemon_has_not_evaluated_is_unknown(instance: Instance) -> None:
    (view,) = views_of(GRAPH, "orders", [], now=T0)
    assert (view.state, view.source) == ("UNKNOWN", "policy")
    assert "not evaluated yet" in view.reason

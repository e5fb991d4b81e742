"""`web.catalog`: the catalog's rows from snapshots and real storage (SQLite), read in a number
of statements that does not grow with the number of assets, and its filters and sorts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.protocol.snapshot import (
    AssetCheckSnap,
    AssetNodeSnap,
    LocationSnap,
    StaticPartitionsSnap,
)
from bakehouse.storage import EventRecord, EventType, Instance, RunRecord, RunStatus
from bakehouse.web.catalog import CatalogQuery, CatalogRow, catalog_rows, page_payload
from bakehouse.web.partition_counts import PartitionCount

SIDES = StaticPartitionsSnap(keys=("n", "s", "e", "w"))


def _graph(n: int) -> GlobalAssetGraph:
    """`n` assets in two locations: every 3rd partitioned, every 4th with two checks."""
    nodes: dict[str, list[AssetNodeSnap]] = {"east": [], "west": []}
    checks: dict[str, list[AssetCheckSnap]] = {"east": [], "west": []}
    for i in range(n):
        key = f"a{i:04d}"
        where = "east" if i % 2 else "west"
        nodes[where].append(
            AssetNodeSnap(
                key=key,
                group=f"g{i % 3}",
                kinds=("python",) if i % 2 else (),
                owners=("team:x",) if i % 5 == 0 else (),
                step_key=key,
                partitions=SIDES if i % 3 == 0 else None,
            )
        )
        if i % 4 == 0:
            checks[where] += [
                AssetCheckSnap(name="ok", asset_key=key),
                AssetCheckSnap(name="fresh", asset_key=key),
            ]
    return GlobalAssetGraph(
        LocationSnap(name=name, assets=tuple(nodes[name]), asset_checks=tuple(checks[name]))
        for name in nodes
    )


def _event(event_type: EventType, key: str, **fields: Any) -> EventRecord:
    return EventRecord(run_id="r1", event_type=event_type, timestamp=5.0, asset_key=key, **fields)


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[Instance]:
    with Instance.for_home(tmp_path / ".bakehouse") as opened:
        opened.create_run(RunRecord(run_id="r1", asset_selection=("a0000", "a0001", "a0003")))
        opened.update_run("r1", status=RunStatus.STARTED)
        opened.store_events(
            [
                _event(EventType.ASSET_MATERIALIZATION, "a0000", partition_key="n"),
                _event(EventType.ASSET_MATERIALIZATION, "a0000", partition_key="s"),
                _event(EventType.ASSET_MATERIALIZATION, "a0001"),
                _event(
                    EventType.ASSET_CHECK_EVALUATION,
                    "a0000",
                    data={"check_name": "ok", "passed": True},
                ),
                _event(
                    EventType.ASSET_CHECK_EVALUATION,
                    "a0000",
                    data={"check_name": "fresh", "passed": False},
                ),
            ]
        )
        opened.update_run("r1", status=RunStatus.FAILURE)
        yield opened


def _statements(instance: Instance, graph: GlobalAssetGraph) -> int:
    count = 0

    def counted(*_: Any) -> None:
        nonlocal count
        count += 1

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", counted)
    try:
        catalog_rows(instance, graph)
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", counted)
    return count


def decoded_rows(payload: dict[str, Any]) -> list[list[Any]]:
    """The rows of `payload` with their interned fields put back, as ``static/catalog.js`` does
    on load: each a list in the order of ``payload["fields"]``."""
    fields = payload["fields"]
    interned = [(fields.index(name), values) for name, values in payload["interned"].items()]
    rows = []
    for row in payload["rows"]:
        row = list(row)
        for i, table in interned:
            if row[i] is not None:
                row[i] = table[row[i]]
        rows.append(row)
    return rows


def test_rows_carry_status_partitions_and_checks(instance: Instance) -> None:
    rows = {r.key: r for r in catalog_rows(instance, _graph(8))}
    assert list(rows) == sorted(rows)
    first = rows["a0000"]
    assert (first.location, first.group, first.owners) == ("west", "g0", ("team:x",))
    assert first.partitions == PartitionCount(2, 4)
    assert first.checks is not None
    assert (first.checks.total, first.checks.passed, first.checks.failed) == (2, 1, 1)
    assert first.state == "materialized"  # its run failed after materializing it
    assert (rows["a0001"].state, rows["a0001"].kinds) == ("materialized", ("python",))
    assert rows["a0003"].state == "failed"  # in the failed run, never materialized
    assert rows["a0003"].partitions == PartitionCount(0, 4)
    assert rows["a0002"].partitions is None
    assert (rows["a0002"].state, rows["a0002"].checks) == ("never", None)
    assert rows["a0004"].checks is not None
    assert rows["a0004"].checks.passed == rows["a0004"].checks.failed == 0


def test_the_number_of_statements_does_not_grow_with_the_assets(instance: Instance) -> None:
    # Up to 500 assets per chunk: 40 and 480 assets read alike.
    assert _statements(instance, _graph(40)) == _statements(instance, _graph(480))


def _row(key: str, **fields: Any) -> CatalogRow:
    values: dict[str, Any] = {
        "group": "g",
        "location": "loc",
        "kinds": (),
        "owners": (),
        "description": None,
        "is_external": False,
        "state": "never",
        "partitions": None,
        "materialized_at": None,
        "materialized_run": None,
        "checks": None,
    }
    return CatalogRow(key=key, **{**values, **fields})


ROWS = [
    _row("Orders", group="sales", kinds=("sql",), materialized_at=3.0, state="materialized"),
    _row("customers", group="crm", owners=("ann",), state="failed"),
    _row("order_items", group="sales", partitions=PartitionCount(1, 4), materialized_at=1.0),
    _row("refunds", group="sales", partitions=PartitionCount(3, 4), location=None),
]


@pytest.mark.parametrize(
    ("query", "keys"),
    [
        (CatalogQuery(), ["Orders", "customers", "order_items", "refunds"]),
        (CatalogQuery(q="ORDER"), ["Orders", "order_items"]),
        (CatalogQuery(group="sales", kind="sql"), ["Orders"]),
        (CatalogQuery(owner="ann"), ["customers"]),
        (CatalogQuery(status="failed"), ["customers"]),
        (CatalogQuery(location="loc", group="sales"), ["Orders", "order_items"]),
        # Rows without a value stay last, whichever the direction; ties keep key order.
        (CatalogQuery(sort="partitions"), ["order_items", "refunds", "Orders", "customers"]),
        (CatalogQuery(sort="-partitions"), ["refunds", "order_items", "Orders", "customers"]),
        (CatalogQuery(sort="-materialized"), ["Orders", "order_items", "customers", "refunds"]),
        (CatalogQuery(sort="location"), ["Orders", "customers", "order_items", "refunds"]),
        (CatalogQuery(sort="-group"), ["Orders", "order_items", "refunds", "customers"]),
        (CatalogQuery(sort="status"), ["customers", "order_items", "refunds", "Orders"]),
    ],
)
def test_filters_and_sorts(query: CatalogQuery, keys: list[str]) -> None:
    assert [r.key for r in query.apply(ROWS)] == keys


def test_the_page_payload_sends_repeated_values_once() -> None:
    rows = [
        *ROWS,
        _row("returns", group="sales", materialized_run="r1", materialized_at=2.0),
        _row("stock", group="sales", kinds=("sql",), materialized_run="r1", is_external=True),
    ]
    payload = page_payload(rows)
    fields = payload["fields"]
    # The interned fields hold indexes into one table each: every distinct value once.
    assert payload["interned"]["group"] == ["sales", "crm"]
    assert payload["interned"]["location"] == ["loc"]
    assert payload["interned"]["kinds"] == [["sql"], []]
    assert payload["interned"]["materialized_run"] == ["r1"]
    assert [r[fields.index("group")] for r in payload["rows"]] == [0, 1, 0, 0, 0, 0]
    assert payload["rows"][3][fields.index("location")] is None  # refunds: no location
    # Decoded (as the page's script does), each row carries its values again.
    decoded = {r[0]: dict(zip(fields, r, strict=True)) for r in decoded_rows(payload)}
    assert decoded["stock"] == {
        "key": "stock",
        "group": "sales",
        "location": "loc",
        "kinds": ["sql"],
        "owners": [],
        "state": "never",
        "partitions": None,
        "materialized_at": None,
        "materialized_run": "r1",
        "checks": None,
        "external": 1,
        "freshness": None,
    }
    assert decoded["customers"]["owners"] == ["ann"]
    assert decoded["refunds"]["location"] is None
    assert decoded["order_items"]["partitions"] == [1, 4]

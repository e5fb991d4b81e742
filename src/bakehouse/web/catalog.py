"""The asset catalog: every asset as one row (status, partitions, checks), and its filters.

`catalog_rows` reads what every row needs in a fixed number of storage reads whatever the
number of assets: the latest materializations (one), the recent runs (one), the partition
counts (one grouped read per 500 partitioned assets) and the check results (one windowed read
per 500 assets with checks). `CatalogQuery` filters and sorts rows; ``/api/assets`` applies it
on the server, and ``static/catalog.js`` applies the same rules in the page (keep them alike).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.storage.instance import Instance
from bakehouse.storage.records import AssetMaterializationRecord, EventRecord, RunRecord
from bakehouse.web import asset_status
from bakehouse.web.check_results import HISTORY, latest_by_check, outcome
from bakehouse.web.freshness import FreshnessView, is_watched, views_of, worst
from bakehouse.web.location_colors import location_color
from bakehouse.web.partition_counts import PartitionCount, partition_counts

Status = Literal["materialized", "never", "failed", "running", "queued"]
# A column to sort by; with a leading "-" descending.
SortOrder = Literal[
    "key",
    "group",
    "location",
    "status",
    "partitions",
    "materialized",
    "checks",
    "-key",
    "-group",
    "-location",
    "-status",
    "-partitions",
    "-materialized",
    "-checks",
]
STATUSES: tuple[str, ...] = get_args(Status)
SORT_ORDERS: tuple[str, ...] = get_args(SortOrder)
# Sorting by status puts what needs attention first.
STATUS_ORDER = {"failed": 0, "running": 1, "queued": 2, "never": 3, "materialized": 4}


@dataclass(frozen=True)
class CheckCounts:
    """How many checks an asset has, and how many passed or failed (or raised) last time."""

    total: int
    passed: int
    failed: int


@dataclass(frozen=True)
class CatalogRow:
    """One asset as the catalog lists it."""

    key: str
    group: str
    location: str | None
    kinds: tuple[str, ...]
    owners: tuple[str, ...]
    description: str | None
    is_external: bool
    state: str
    partitions: PartitionCount | None
    materialized_at: float | None
    materialized_run: str | None
    checks: CheckCounts | None
    freshness: FreshnessView | None = None


def _check_histories(
    instance: Instance, graph: GlobalAssetGraph, keys: Sequence[str]
) -> dict[str, list[EventRecord]]:
    """The newest check results of the assets with checks or a freshness policy (one windowed
    read per 500 of them)."""
    wanted = [k for k in keys if graph.checks.get(k) or is_watched(graph, k)]
    return instance.get_asset_check_histories(wanted, limit=HISTORY) if wanted else {}


def _check_counts(
    graph: GlobalAssetGraph, keys: Sequence[str], histories: dict[str, list[EventRecord]]
) -> dict[str, CheckCounts]:
    checked = [k for k in keys if graph.checks.get(k)]
    counts = {}
    for key in checked:
        latest = latest_by_check(histories.get(key, []))
        outcomes = [outcome(latest.get(p.check.name)) for p in graph.checks[key]]
        failed = sum(1 for o in outcomes if o in ("failed", "errored"))
        counts[key] = CheckCounts(len(outcomes), outcomes.count("passed"), failed)
    return counts


@dataclass(frozen=True)
class CatalogFacts:
    """What storage says about a set of assets, read at once."""

    latest: dict[str, AssetMaterializationRecord]
    newest_runs: dict[str, RunRecord]
    partitions: dict[str, PartitionCount]
    checks: dict[str, CheckCounts]
    freshness: dict[str, FreshnessView]


def read_facts(
    instance: Instance, graph: GlobalAssetGraph, keys: Sequence[str] | None
) -> CatalogFacts:
    """The latest materializations, newest runs, partition and check counts of `keys` (every
    asset of `graph` when None)."""
    chosen = sorted(graph.assets) if keys is None else list(keys)
    runs = instance.get_runs(limit=asset_status.RECENT_RUNS)
    histories = _check_histories(instance, graph, chosen)
    now = time.time()
    freshness = {
        key: badge
        for key in chosen
        if is_watched(graph, key)
        and (badge := worst(views_of(graph, key, histories.get(key, []), now))) is not None
    }
    return CatalogFacts(
        latest=instance.get_latest_materializations(None if keys is None else chosen),
        newest_runs=asset_status.newest_run_by_asset(runs),
        partitions=partition_counts(instance, graph, chosen),
        checks=_check_counts(graph, chosen, histories),
        freshness=freshness,
    )


def row_of(key: str, graph: GlobalAssetGraph, facts: CatalogFacts) -> CatalogRow:
    """The catalog row of `key` from `facts`."""
    placed = graph.assets[key]
    node = placed.node
    status = asset_status.status_of(facts.newest_runs.get(key), facts.latest.get(key))
    return CatalogRow(
        key=key,
        group=node.group,
        location=placed.location,
        kinds=tuple(node.kinds),
        owners=tuple(node.owners),
        description=node.description,
        is_external=node.is_external,
        state=status.state,
        partitions=facts.partitions.get(key),
        materialized_at=status.materialized_at,
        materialized_run=status.materialized_run,
        checks=facts.checks.get(key),
        freshness=facts.freshness.get(key),
    )


def catalog_rows(
    instance: Instance, graph: GlobalAssetGraph, keys: Sequence[str] | None = None
) -> list[CatalogRow]:
    """A row for each of `keys` (every asset of `graph` when None), in key order."""
    facts = read_facts(instance, graph, keys)
    return [row_of(key, graph, facts) for key in (sorted(graph.assets) if keys is None else keys)]


def _partitions_done(row: CatalogRow) -> float | None:
    p = row.partitions
    return None if p is None else (p.materialized / p.total if p.total else 0.0)


def _checks_order(row: CatalogRow) -> tuple[int, int] | None:
    return None if row.checks is None else (row.checks.failed, row.checks.passed)


# What each column sorts by; None (no partitions, never materialized, no checks) sorts last
# in either direction.
_SORT_VALUES: dict[str, Callable[[CatalogRow], Any]] = {
    "key": lambda r: r.key,
    "group": lambda r: r.group,
    "location": lambda r: r.location,
    "status": lambda r: STATUS_ORDER.get(r.state, 9),
    "partitions": _partitions_done,
    "materialized": lambda r: r.materialized_at,
    "checks": _checks_order,
}


@dataclass(frozen=True)
class CatalogQuery:
    """Filters (each one value; all must hold) and the sort: a field, ``-field`` descending."""

    q: str = ""
    group: str | None = None
    location: str | None = None
    kind: str | None = None
    owner: str | None = None
    status: str | None = None
    sort: str = "key"

    def matches(self, row: CatalogRow) -> bool:
        """Whether `row` passes every filter; `q` is a case-insensitive part of the key."""
        return (
            (not self.q or self.q.lower() in row.key.lower())
            and (self.group is None or row.group == self.group)
            and (self.location is None or row.location == self.location)
            and (self.kind is None or self.kind in row.kinds)
            and (self.owner is None or self.owner in row.owners)
            and (self.status is None or row.state == self.status)
        )

    def apply(self, rows: Iterable[CatalogRow]) -> list[CatalogRow]:
        """The rows that match, sorted (ties by key)."""
        field = self.sort.lstrip("-")
        value = _SORT_VALUES[field]
        kept = sorted((r for r in rows if self.matches(r)), key=lambda r: r.key)
        present = [r for r in kept if value(r) is not None]
        absent = [r for r in kept if value(r) is None]
        # Stable sorts: equal values keep key order, also when descending.
        present.sort(key=value, reverse=self.sort.startswith("-"))
        return present + absent


class _Interned:
    """A table of distinct values and each one's index in it, in order of first use."""

    def __init__(self) -> None:
        self.values: list[Any] = []
        self._index: dict[Any, int] = {}

    def index(self, value: Any) -> int | None:
        """The index of `value` (added when new); None stays None."""
        if value is None:
            return None
        found = self._index.get(value)
        if found is None:
            found = self._index[value] = len(self.values)
            self.values.append(list(value) if isinstance(value, tuple) else value)
        return found


# The fields whose values repeat across rows (a few groups, locations and states for thousands
# of assets; one run for every asset it materialized): sent once each, rows hold indexes.
INTERNED = ("group", "location", "kinds", "owners", "state", "materialized_run")


def page_payload(rows: Sequence[CatalogRow]) -> dict[str, Any]:
    """The compact form the catalog page embeds for its script: one array per row, and the
    values each filter offers.

    In a row, the `INTERNED` fields are indexes into ``interned[field]`` (None stays None) and
    ``external`` is 0 or 1: a row of 50,000 then takes about half the bytes it did with the
    strings repeated.
    """

    def values(pick: Callable[[CatalogRow], Iterable[str | None]]) -> list[str]:
        return sorted({v for r in rows for v in pick(r) if v is not None})

    tables = {name: _Interned() for name in INTERNED}
    group, location, kinds, owners, state, run = (tables[name].index for name in INTERNED)
    locations = values(lambda r: [r.location])
    return {
        "fields": [
            "key",
            "group",
            "location",
            "kinds",
            "owners",
            "state",
            "partitions",
            "materialized_at",
            "materialized_run",
            "checks",
            "external",
            "freshness",
        ],
        "rows": [
            [
                r.key,
                group(r.group),
                location(r.location),
                kinds(r.kinds),
                owners(r.owners),
                state(r.state),
                r.partitions.as_list() if r.partitions else None,
                r.materialized_at,
                run(r.materialized_run),
                [r.checks.total, r.checks.passed, r.checks.failed] if r.checks else None,
                int(r.is_external),
                [r.freshness.state, r.freshness.label, r.freshness.reason] if r.freshness else None,
            ]
            for r in rows
        ],
        "interned": {name: table.values for name, table in tables.items()},
        "groups": values(lambda r: [r.group]),
        "locations": locations,
        "kinds": values(lambda r: r.kinds),
        "owners": values(lambda r: r.owners),
        "colors": {name: location_color(name) for name in locations},
    }

"""The lineage graph as the UI draws it: the laid-out global graph (or a selection of it) and,
apart, each asset's status; layouts and their JSON are cached per version of the serving
definitions.

The structure (`GraphViews.structure`) changes only with the definitions, so it is served once
per version with an ETag; the status (`GraphViews.status`) is compact parallel arrays in the
structure's node order, and the live feed sends its changes.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import msgspec

from bakehouse.host.deployment import Deployment
from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.host.module_errors import failed_module_of
from bakehouse.host.staleness import keys_to_read, staleness
from bakehouse.web import asset_status
from bakehouse.web.data_version import VersionedCache, changes_with_time, data_version
from bakehouse.web.layout import GraphLayout, NodeSpec, layout_graph
from bakehouse.web.location_colors import location_color
from bakehouse.web.partition_counts import partition_counts

CACHED_LAYOUTS = 8

# The states a status array holds, by index (``asset_status``'s words).
STATES = ("never", "materialized", "failed", "running", "queued")
_STATE_INDEX = {name: i for i, name in enumerate(STATES)}


@dataclass(frozen=True)
class Structure:
    """The laid-out graph as JSON bytes, and its entity tag (a digest of what it was built from)."""

    etag: str
    body: bytes


def definitions_version(dep: Deployment) -> str:
    """Changes whenever any location starts serving other definitions."""
    return ";".join(
        f"{s.name}={s.version}" for s in dep.locations() if s.snapshot is not None and s.version
    )


class GraphViews:
    """Builds and caches the global graph and its layouts for one deployment."""

    def __init__(self, dep: Deployment) -> None:
        self.dep = dep
        self._lock = threading.Lock()
        self._graph: tuple[str, GlobalAssetGraph] | None = None
        self._clocked: tuple[str, bool] | None = None
        self._layouts: OrderedDict[tuple[str, tuple[str, ...] | None], GraphLayout] = OrderedDict()
        self._structures: OrderedDict[tuple[str, tuple[str, ...] | None], Structure] = OrderedDict()
        self._statuses: VersionedCache[bytes] = VersionedCache(CACHED_LAYOUTS)

    def graph(self) -> tuple[str, GlobalAssetGraph]:
        """The definitions version and the global graph of the definitions serving now."""
        version = definitions_version(self.dep)
        with self._lock:
            if self._graph is None or self._graph[0] != version:
                self._graph = (version, self.dep.graph())
            return self._graph

    def data_version(self) -> tuple[str, tuple[Hashable, ...]]:
        """The definitions version and storage's `data_version.data_version`, with a clock only
        when the serving graph `changes_with_time` (decided once per definitions version)."""
        version, graph = self.graph()
        clocked = self._clocked
        if clocked is None or clocked[0] != version:
            clocked = self._clocked = (version, changes_with_time(graph))
        return version, data_version(self.dep.instance, clocked=clocked[1])

    def layout(self, keys: list[str] | None = None) -> tuple[str, GlobalAssetGraph, GraphLayout]:
        """The layout of `keys` (every asset when None), from the cache when it is fresh."""
        version, graph = self.graph()
        cache_key = (version, tuple(keys) if keys is not None else None)
        with self._lock:
            cached = self._layouts.get(cache_key)
            if cached is not None:
                self._layouts.move_to_end(cache_key)
                return version, graph, cached
        chosen = sorted(graph.assets) if keys is None else keys
        specs = [
            NodeSpec(
                key=key,
                location=graph.assets[key].location,
                group=graph.assets[key].node.group,
                parents=graph.assets[key].node.deps,
            )
            for key in chosen
        ]
        layout = layout_graph(specs)
        with self._lock:
            self._layouts[cache_key] = layout
            while len(self._layouts) > CACHED_LAYOUTS:
                self._layouts.popitem(last=False)
        return version, graph, layout

    def structure(self, keys: list[str] | None = None) -> Structure:
        """The layout of `keys` (every asset when None) with what each node shows that only the
        definitions decide (kinds, external, partitioned), encoded once per version."""
        version, graph, layout = self.layout(keys)
        cache_key = (version, tuple(keys) if keys is not None else None)
        with self._lock:
            cached = self._structures.get(cache_key)
            if cached is not None:
                self._structures.move_to_end(cache_key)
                return cached
        data = layout.to_json()
        for box in data["locations"]:
            box["color"] = location_color(box["location"])
        for node in data["nodes"]:
            placed = graph.assets[node["key"]]
            node["kinds"] = list(placed.node.kinds)
            node["external"] = placed.node.is_external
            # "file:line" of the module that failed to load and defined it: drawn as missing.
            node["failed_module"] = failed_module_of(placed.node)
            node["partitioned"] = placed.node.partitions is not None
        data["version"] = version
        data["total"] = len(graph.assets)
        digest = hashlib.sha256(repr(cache_key).encode()).hexdigest()[:32]
        data["etag"] = f'"{digest}"'
        built = Structure(etag=data["etag"], body=msgspec.json.encode(data))
        with self._lock:
            self._structures[cache_key] = built
            while len(self._structures) > CACHED_LAYOUTS:
                self._structures.popitem(last=False)
        return built

    def status_body(self, keys: list[str] | None = None) -> bytes:
        """`status` as JSON bytes, kept while neither the definitions, storage (`data_version`)
        nor the locations' states change: a warm request reads two small rows, not every
        latest materialization."""
        version, stored = self.data_version()
        key = (
            version,
            tuple(keys) if keys is not None else None,
            stored,
            tuple((s.name, s.status.value, s.serving_last_good) for s in self.dep.locations()),
        )
        return self._statuses.get(key, lambda: msgspec.json.encode(self.status(keys)))

    def status(self, keys: list[str] | None = None) -> dict[str, Any]:
        """Each placed asset's status, as arrays in the structure's node order: ``state`` (an
        index into ``states``), ``materialized_at``, ``materialized_run`` and ``run`` (indexes
        into ``runs``, each ``[run_id, status, created_at]``, or null), ``partitions``
        (``{node index: [materialized, total]}``) and ``unsynced`` / ``unsynced_reasons``
        (``{node index: [...]}``: why its latest materialization is out of date). ``cursor``
        is the event log's storage id before it was read: the live feed's changes after it are
        newer than this answer."""
        version, graph, layout = self.layout(keys)
        instance = self.dep.instance
        cursor = instance.get_max_event_storage_id()
        placed_keys = [n.key for n in layout.nodes]
        # Staleness compares with upstream materializations, placed or not: read those too.
        latest = instance.get_latest_materializations(
            None if keys is None else keys_to_read(graph, placed_keys)
        )
        recent = instance.get_runs(limit=asset_status.RECENT_RUNS)
        states = asset_status.statuses(placed_keys, recent, latest)
        stale = staleness(graph, placed_keys, latest)
        counts = partition_counts(instance, graph, placed_keys)
        run_index: dict[str, int] = {}
        runs: list[list[Any]] = []
        by_id = {r.run_id: r for r in recent}

        def index_of(run_id: str | None) -> int | None:
            if run_id is None:
                return None
            found = run_index.get(run_id)
            if found is None:
                found = run_index[run_id] = len(runs)
                run = by_id.get(run_id)
                runs.append(
                    [run_id, run.status.value, run.created_at] if run else [run_id, None, None]
                )
            return found

        state_list, at_list, materialized_list, run_list = [], [], [], []
        partitions: dict[str, list[int]] = {}
        unsynced: dict[str, list[str]] = {}
        unsynced_reasons: dict[str, list[str]] = {}
        for i, key in enumerate(placed_keys):
            behind = stale.get(key)
            if behind:
                unsynced[str(i)] = list(behind.causes)
                unsynced_reasons[str(i)] = behind.describe()
            state = states[key]
            state_list.append(_STATE_INDEX[state.state])
            at_list.append(state.materialized_at)
            materialized_list.append(index_of(state.materialized_run))
            run_list.append(index_of(state.run_id))
            count = counts.get(key)
            if count:
                partitions[str(i)] = count.as_list()
        return {
            "version": version,
            "cursor": cursor,
            "states": list(STATES),
            "state": state_list,
            "materialized_at": at_list,
            "materialized_run": materialized_list,
            "run": run_list,
            "runs": runs,
            "partitions": partitions,
            "unsynced": unsynced,
            "unsynced_reasons": unsynced_reasons,
            "locations_state": [
                {"name": s.name, "status": s.status.value, "serving_last_good": s.serving_last_good}
                for s in self.dep.locations()
            ],
        }

    def view(self, keys: list[str] | None = None) -> dict[str, Any]:
        """Layout, asset details and statuses in one piece, as plain data: what a job's page
        embeds (small graphs, drawn without a request)."""
        version, graph, layout = self.layout(keys)
        instance = self.dep.instance
        placed_keys = [n.key for n in layout.nodes]
        latest = instance.get_latest_materializations(
            None if keys is None else keys_to_read(graph, placed_keys)
        )
        runs = instance.get_runs(limit=asset_status.RECENT_RUNS)
        states = asset_status.statuses(placed_keys, runs, latest)
        unsynced = staleness(graph, placed_keys, latest)
        counts = partition_counts(instance, graph, placed_keys)
        data = layout.to_json()
        for box in data["locations"]:
            box["color"] = location_color(box["location"])
        for node in data["nodes"]:
            placed = graph.assets[node["key"]]
            state = states[node["key"]]
            node["kinds"] = list(placed.node.kinds)
            node["external"] = placed.node.is_external
            # "file:line" of the module that failed to load and defined it: drawn as missing.
            node["failed_module"] = failed_module_of(placed.node)
            node["partitioned"] = placed.node.partitions is not None
            count = counts.get(node["key"])
            # [materialized, total] for a partitioned asset ("7/12" on its node), else None.
            node["partitions"] = count.as_list() if count else None
            node["state"] = state.state
            node["materialized_at"] = state.materialized_at
            node["materialized_run"] = state.materialized_run
            node["run_id"] = state.run_id
            # Status, not structure: why its latest materialization is out of date, if it is.
            stale = unsynced.get(node["key"])
            node["unsynced"] = list(stale.causes) if stale else []
            node["unsynced_reasons"] = stale.describe() if stale else []
        data["version"] = version
        data["total"] = len(graph.assets)
        data["locations_state"] = [
            {"name": s.name, "status": s.status.value, "serving_last_good": s.serving_last_good}
            for s in self.dep.locations()
        ]
        return data

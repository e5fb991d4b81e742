"""The lineage graph as the UI draws it: the laid-out global graph (or a selection of it) with
each asset's status; layouts are cached per version of the serving definitions."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from bakehouse.host.deployment import Deployment
from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.host.module_errors import failed_module_of
from bakehouse.host.staleness import keys_to_read, staleness
from bakehouse.web import asset_status
from bakehouse.web.layout import GraphLayout, NodeSpec, layout_graph
from bakehouse.web.location_colors import location_color
from bakehouse.web.partition_counts import partition_counts

CACHED_LAYOUTS = 8


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
        self._layouts: OrderedDict[tuple[str, tuple[str, ...] | None], GraphLayout] = OrderedDict()

    def graph(self) -> tuple[str, GlobalAssetGraph]:
        """The definitions version and the global graph of the definitions serving now."""
        version = definitions_version(self.dep)
        with self._lock:
            if self._graph is None or self._graph[0] != version:
                self._graph = (version, self.dep.graph())
            return self._graph

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

    def view(self, keys: list[str] | None = None) -> dict[str, Any]:
        """What the lineage page draws: layout, asset details and statuses, as plain data."""
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

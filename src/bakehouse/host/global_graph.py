"""The global asset graph: every location's snapshot merged into one graph of keys.

Host side: built from snapshots only. An asset may depend on a key another location defines;
the edge crosses locations and selection walks it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bakehouse.errors import SelectionError
from bakehouse.graph.dag import KeyGraph, NodeInfo
from bakehouse.graph.selection import select_keys
from bakehouse.protocol.snapshot import AssetCheckSnap, AssetNodeSnap, JobSnap, LocationSnap


@dataclass(frozen=True)
class PlacedCheck:
    """An asset check and the location that defines it."""

    check: AssetCheckSnap
    location: str


@dataclass(frozen=True)
class PlacedAsset:
    """An asset node and the location that defines it (None if no location does)."""

    node: AssetNodeSnap
    location: str | None


class GlobalAssetGraph:
    """Assets of all locations by key, with the `KeyGraph` selection and ordering walk."""

    def __init__(
        self, snapshots: Iterable[LocationSnap], *, stale: Mapping[str, str] | None = None
    ) -> None:
        self.locations = {snap.name: snap for snap in snapshots}
        # Locations serving their last good snapshot because their latest load failed, with
        # that failure's message: their files on disk no longer load, so a run worker (which
        # imports them anew) cannot run their assets; `host.launching` refuses such launches.
        self.stale: dict[str, str] = dict(stale or {})
        self.assets: dict[str, PlacedAsset] = {}
        # Keys defined by more than one location; the first location (by name) wins.
        self.conflicts: dict[str, list[str]] = {}
        # Each asset's checks, from every location (a check may live apart from its asset).
        self.checks: dict[str, list[PlacedCheck]] = {}
        for name in sorted(self.locations):
            for node in self.locations[name].assets:
                self._place(node, name)
            for check in self.locations[name].asset_checks:
                self.checks.setdefault(check.asset_key, []).append(PlacedCheck(check, name))
        self.key_graph = KeyGraph(
            NodeInfo(
                key=key,
                parents=placed.node.deps,
                group=placed.node.group,
                kinds=frozenset(placed.node.kinds),
                tags=placed.node.tags,
                owners=placed.node.owners,
                location=placed.location,
                is_external=placed.node.is_external,
            )
            for key, placed in self.assets.items()
        )

    def _place(self, node: AssetNodeSnap, location: str) -> None:
        current = self.assets.get(node.key)
        if node.is_undefined:
            if current is None:
                self.assets[node.key] = PlacedAsset(node, None)
            return
        if current is None or current.location is None:
            self.assets[node.key] = PlacedAsset(node, location)
            return
        # Both define it: an executable definition beats an external spec of the same key.
        if current.node.is_external and not node.is_external:
            self.assets[node.key] = PlacedAsset(node, location)
        elif not current.node.is_external and not node.is_external:
            self.conflicts.setdefault(node.key, [current.location]).append(location)

    def checks_of_missing_assets(self) -> list[PlacedCheck]:
        """Checks of assets that no location defines (a typo, or a location not loaded)."""
        return [
            placed
            for key, checks in sorted(self.checks.items())
            if self.location_of(key) is None and not self._is_external_spec(key)
            for placed in checks
        ]

    def _is_external_spec(self, key: str) -> bool:
        # An AssetSpec some location declares: it exists, outside bakehouse.
        placed = self.assets.get(key)
        return placed is not None and placed.location is not None

    def select(self, query: str) -> list[str]:
        """The materializable keys `query` selects, in dependency order."""
        chosen = select_keys(query, self.key_graph)
        runnable = [k for k in chosen if not self.assets[k].node.is_external]
        if not runnable:
            raise SelectionError(
                f"selection {query!r} matches only external assets, which bakehouse does not "
                "materialize"
            )
        return self.key_graph.toposort(runnable)

    def location_of(self, key: str) -> str | None:
        """The location that materializes `key`."""
        placed = self.assets.get(key)
        return placed.location if placed and not placed.node.is_external else None

    def find_job(self, name: str) -> tuple[str, JobSnap]:
        """The location and snapshot of the job called `name`."""
        for location, snap in sorted(self.locations.items()):
            for job in snap.jobs:
                if job.name == name:
                    return location, job
        known = sorted(j.name for s in self.locations.values() for j in s.jobs)
        raise SelectionError(f"no job named {name!r} (jobs: {', '.join(known) or 'none'})")

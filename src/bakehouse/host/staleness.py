"""Staleness, host side: whether an asset's latest materialization still reflects its inputs and
its code, from the snapshot and the asset index alone (one read for any number of assets).

An asset is *unsynced* (Dagster's word) when:

- ``upstream``: an upstream asset materialized after it did (a newer storage id in the index);
- ``code``: its definition's `code_version` differs from the one its latest materialization
  recorded (materializations that recorded none count as differing only when the definition
  has one);
- ``never``: it was never materialized (external assets excepted: bakehouse does not make them).

Partitioned assets are judged on their newest materialization of any partition, as the index
keeps it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.storage.records import AssetMaterializationRecord

UPSTREAM, CODE, NEVER = "upstream", "code", "never"


@dataclass(frozen=True)
class Staleness:
    """Why an asset is unsynced: its causes (``upstream``, ``code``, ``never``) and details."""

    causes: tuple[str, ...]
    # The upstream assets materialized since it was.
    changed_upstream: tuple[str, ...] = ()
    # The code version it was materialized with, and the definition's now.
    recorded_code_version: str | None = None
    code_version: str | None = None

    def describe(self) -> list[str]:
        """One sentence per cause, for people."""
        said = []
        if NEVER in self.causes:
            said.append("never materialized")
        if UPSTREAM in self.causes:
            names = ", ".join(self.changed_upstream[:3])
            more = len(self.changed_upstream) - 3
            said.append(
                f"upstream changed since this materialization: {names}"
                + (f" and {more} more" if more > 0 else "")
            )
        if CODE in self.causes:
            was = self.recorded_code_version or "none recorded"
            said.append(f"code version changed: materialized with {was}, now {self.code_version}")
        return said


def staleness(
    graph: GlobalAssetGraph,
    keys: Iterable[str],
    latest: Mapping[str, AssetMaterializationRecord],
) -> dict[str, Staleness]:
    """The unsynced assets among `keys`, with why; `latest` must hold the latest materialization
    of each of `keys` and of their upstream assets that have one."""
    found: dict[str, Staleness] = {}
    for key in keys:
        placed = graph.assets.get(key)
        if placed is None or placed.node.is_external:
            continue
        mine = latest.get(key)
        if mine is None:
            found[key] = Staleness(causes=(NEVER,))
            continue
        causes: list[str] = []
        changed = tuple(
            dep
            for dep in placed.node.deps
            if (up := latest.get(dep)) is not None and up.storage_id > mine.storage_id
        )
        if changed:
            causes.append(UPSTREAM)
        version = placed.node.code_version
        if version is not None and version != mine.code_version:
            causes.append(CODE)
        if causes:
            found[key] = Staleness(
                causes=tuple(causes),
                changed_upstream=changed,
                recorded_code_version=mine.code_version,
                code_version=version,
            )
    return found


def keys_to_read(graph: GlobalAssetGraph, keys: Iterable[str]) -> list[str]:
    """`keys` and their upstream assets: whose latest materializations `staleness` needs."""
    wanted = dict.fromkeys(keys)
    for key in list(wanted):
        placed = graph.assets.get(key)
        if placed is not None:
            wanted.update(dict.fromkeys(placed.node.deps))
    return list(wanted)

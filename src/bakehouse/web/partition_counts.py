"""How many partitions of each partitioned asset are materialized, of how many it has now.

For many assets at once (the catalog, the lineage nodes): one grouped storage read for the
counts (`Instance.get_partition_status_counts_of_assets`), and the keys of each distinct
partitions definition computed once from the snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.host.partition_keys import partition_keys
from bakehouse.protocol.snapshot import PartitionsSnap
from bakehouse.storage.instance import Instance
from bakehouse.storage.records import PartitionStatus


@dataclass(frozen=True)
class PartitionCount:
    """`materialized` of `total` partitions (``7/12``)."""

    materialized: int
    total: int

    def as_list(self) -> list[int]:
        """``[materialized, total]``: the compact form pages embed."""
        return [self.materialized, self.total]


def partition_counts(
    instance: Instance, graph: GlobalAssetGraph, keys: Iterable[str]
) -> dict[str, PartitionCount]:
    """The count of each partitioned asset among `keys` (unpartitioned ones are absent)."""
    partitioned = {
        key: snap
        for key in keys
        if key in graph.assets and (snap := graph.assets[key].node.partitions) is not None
    }
    if not partitioned:
        return {}
    stored = instance.get_partition_status_counts_of_assets(list(partitioned))
    totals: dict[PartitionsSnap, int] = {}
    counts = {}
    for key, snap in partitioned.items():
        if snap not in totals:
            totals[snap] = len(partition_keys(snap, dynamic_keys=instance.get_dynamic_partitions))
        total = totals[snap]
        # Storage counts every partition that ever got a status; a key since dropped from a
        # static or dynamic definition may still be among them, so never show more than all.
        done = stored.get(key, {}).get(PartitionStatus.MATERIALIZED, 0)
        counts[key] = PartitionCount(min(done, total), total)
    return counts

"""A cheap token of what storage holds, and a small cache of answers keyed by it.

The asset views (statuses, catalog rows, ``/api/assets``) show the event log and the recent
runs. Rather than re-read every latest materialization per request, they are kept until the
token moves: the newest event's storage id (one indexed read) and the newest runs' ids, statuses
and update times (their indexed columns, no run body decoded). Where the graph has partitioned
assets or freshness policies (`changes_with_time`), a 30-second clock too: time-window partitions
and dynamic partition keys (added without an event) change partition totals, and freshness
changes as time passes, which may so lag by up to 30 seconds. Reading it costs two small
queries whatever the number of assets or the size of the runs.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.storage.instance import Instance
from bakehouse.web import asset_status
from bakehouse.web.freshness import is_watched

CLOCK_S = 30

T = TypeVar("T")


def changes_with_time(graph: GlobalAssetGraph) -> bool:
    """Whether what the asset views show of `graph` can change with no write to storage: a
    partitioned asset (time windows, dynamic partition keys) or a freshness policy or check."""
    return any(
        placed.node.partitions is not None or is_watched(graph, key)
        for key, placed in graph.assets.items()
    )


def data_version(instance: Instance, *, clocked: bool = True) -> tuple[Hashable, ...]:
    """A token that changes whenever an asset's status, materialization, partition or check
    counts may have (and, `clocked`, at least every `CLOCK_S` seconds)."""
    heads = instance.get_run_heads(limit=asset_status.RECENT_RUNS)
    return (
        instance.get_max_event_storage_id(),
        tuple((h.run_id, h.status, h.updated_at) for h in heads),
        int(time.time() // CLOCK_S) if clocked else None,
    )


class VersionedCache(Generic[T]):
    """The newest few answers, each under a key that includes a data version: an answer is
    reused only while the key is unchanged, and the least recently used go first."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[Hashable, T] = OrderedDict()

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        """The answer cached under `key`, else `build()`'s (cached). Two requests that miss at
        once may both build: the answer is the same, and no lock is held while building."""
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        built = build()
        with self._lock:
            self._items[key] = built
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return built

"""The catalog page's rows, kept between requests while nothing they show can have changed.

A row shows the serving definitions, what the event log says (materializations, partition
statuses, check results) and the statuses of the recent runs; the key of the cached payload is
the definitions version, the newest event's storage id and the recent runs' statuses (cheap
reads), plus a 30-second clock: time-window partitions and dynamic partition keys (added without
an event) change the partition totals, which may so lag by up to 30 seconds.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from bakehouse.storage.instance import Instance
from bakehouse.web import asset_status
from bakehouse.web.catalog import catalog_rows, page_payload
from bakehouse.web.graph_view import GraphViews
from bakehouse.web.templating import tojson_script

CLOCK_S = 30


class CatalogCache:
    """The newest catalog payload and its embeddable JSON, for one deployment."""

    def __init__(self, instance: Instance, graphs: GraphViews) -> None:
        self.instance = instance
        self.graphs = graphs
        self._lock = threading.Lock()
        self._cached: tuple[Any, dict[str, Any], str] | None = None

    def _key(self, version: str) -> tuple[Any, ...]:
        runs = self.instance.get_runs(limit=asset_status.RECENT_RUNS)
        return (
            version,
            self.instance.get_max_event_storage_id(),
            tuple((r.run_id, r.status) for r in runs),
            int(time.time() // CLOCK_S),
        )

    def payload(self) -> tuple[dict[str, Any], str]:
        """Every row (`catalog.page_payload`) and the same as JSON safe in a script element."""
        version, graph = self.graphs.graph()
        key = self._key(version)
        with self._lock:
            if self._cached is not None and self._cached[0] == key:
                return self._cached[1], self._cached[2]
        data = page_payload(catalog_rows(self.instance, graph))
        text = str(tojson_script(data))
        with self._lock:
            self._cached = (key, data, text)
        return data, text

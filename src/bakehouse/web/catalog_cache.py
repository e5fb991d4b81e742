"""The catalog page's rows, kept between requests while nothing they show can have changed.

A row shows the serving definitions, what the event log says (materializations, partition
statuses, check results) and the statuses of the recent runs; the key of the cached payload is
`GraphViews.data_version`: the definitions version, the newest event's storage id, the recent
runs' heads (cheap reads, no run body decoded) and, for graphs whose views change with time, a
30-second clock.
"""

from __future__ import annotations

import threading
from typing import Any

from bakehouse.storage.instance import Instance
from bakehouse.web.catalog import catalog_rows, page_payload
from bakehouse.web.graph_view import GraphViews
from bakehouse.web.templating import tojson_script


class CatalogCache:
    """The newest catalog payload and its embeddable JSON, for one deployment."""

    def __init__(self, instance: Instance, graphs: GraphViews) -> None:
        self.instance = instance
        self.graphs = graphs
        self._lock = threading.Lock()
        self._cached: tuple[Any, dict[str, Any], str] | None = None

    def payload(self) -> tuple[dict[str, Any], str]:
        """Every row (`catalog.page_payload`) and the same as JSON safe in a script element."""
        key = self.graphs.data_version()
        _, graph = self.graphs.graph()
        with self._lock:
            if self._cached is not None and self._cached[0] == key:
                return self._cached[1], self._cached[2]
        data = page_payload(catalog_rows(self.instance, graph))
        text = str(tojson_script(data))
        with self._lock:
            self._cached = (key, data, text)
        return data, text

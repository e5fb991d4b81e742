"""DuckDB for bakehouse, under the names of Dagster's ``dagster_duckdb``.

`DuckDBResource` hands assets a connection; `DuckDBIOManager` is the base of IO managers that
store values as tables (`bakehouse_duckdb_pandas.DuckDBPandasIOManager`,
`bakehouse_duckdb_polars.DuckDBPolarsIOManager`). Names resolve on first use, so the
components that only need `bakehouse_duckdb.connect` do not load the IO manager machinery.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_PUBLIC_API = {
    "DuckDBResource": "bakehouse_duckdb.resource",
    "DuckDBIOManager": "bakehouse_duckdb.io_manager",
    "DuckDBTypeHandler": "bakehouse_duckdb.io_manager",
    "TableSlice": "bakehouse_duckdb.table_slice",
}

__all__ = ["DuckDBIOManager", "DuckDBResource", "DuckDBTypeHandler", "TableSlice"]


def __getattr__(name: str) -> Any:
    module_name = _PUBLIC_API.get(name)
    if module_name is None:
        raise AttributeError(f"module 'bakehouse_duckdb' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from bakehouse_duckdb.io_manager import DuckDBIOManager, DuckDBTypeHandler
    from bakehouse_duckdb.resource import DuckDBResource
    from bakehouse_duckdb.table_slice import TableSlice

"""pandas DataFrames stored as DuckDB tables, under the names of Dagster's
``dagster_duckdb_pandas`` (needs ``pip install 'bakehouse[pandas]'``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bakehouse_duckdb.io_manager import DuckDBIOManager, DuckDBTypeHandler
from bakehouse_pandas.metadata import pandas_frame_metadata

__all__ = ["DuckDBPandasIOManager", "DuckDBPandasTypeHandler"]


class DuckDBPandasTypeHandler(DuckDBTypeHandler):
    """Stores and loads `pandas.DataFrame` values."""

    @property
    def supported_types(self) -> Sequence[type]:
        """`pandas.DataFrame`."""
        import pandas

        return [pandas.DataFrame]

    def write(self, connection: Any, relation_name: str, obj: Any) -> int:
        """Expose the DataFrame to SQL without copying it."""
        connection.register(relation_name, obj)
        return len(obj)

    def read(self, connection: Any, query: str) -> Any:
        """The query's rows as a DataFrame."""
        return connection.execute(query).df()

    def metadata(self, obj: Any, *, partitioned: bool) -> Mapping[str, Any]:
        """Row count, column schema and a preview of the DataFrame."""
        return pandas_frame_metadata(obj, partitioned=partitioned)


class DuckDBPandasIOManager(DuckDBIOManager):
    """Stores pandas DataFrames returned by assets as tables of a DuckDB file.

    ``Definitions(resources={"io_manager": DuckDBPandasIOManager(database="data.duckdb")})``.
    """

    @staticmethod
    def type_handlers() -> Sequence[DuckDBTypeHandler]:
        """pandas DataFrames."""
        return [DuckDBPandasTypeHandler()]

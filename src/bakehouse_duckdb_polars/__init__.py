"""polars DataFrames stored as DuckDB tables, under the names of Dagster's
``dagster_duckdb_polars`` (needs ``pip install 'bakehouse[polars]'``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bakehouse_duckdb.io_manager import DuckDBIOManager, DuckDBTypeHandler
from bakehouse_polars.metadata import polars_frame_metadata

__all__ = ["DuckDBPolarsIOManager", "DuckDBPolarsTypeHandler"]


class DuckDBPolarsTypeHandler(DuckDBTypeHandler):
    """Stores and loads `polars.DataFrame` values (a `LazyFrame` is collected first)."""

    @property
    def supported_types(self) -> Sequence[type]:
        """`polars.DataFrame` and `polars.LazyFrame`."""
        import polars

        return [polars.DataFrame, polars.LazyFrame]

    def write(self, connection: Any, relation_name: str, obj: Any) -> int:
        """Expose the DataFrame (a LazyFrame collected) to SQL through Arrow."""
        import polars

        frame = obj.collect() if isinstance(obj, polars.LazyFrame) else obj
        connection.register(relation_name, frame.to_arrow())
        return int(frame.height)

    def read(self, connection: Any, query: str) -> Any:
        """The query's rows as a polars DataFrame."""
        return connection.sql(query).pl()

    def metadata(self, obj: Any, *, partitioned: bool) -> Mapping[str, Any]:
        """Row count, column schema and a preview of the DataFrame (a LazyFrame collected)."""
        import polars

        frame = obj.collect() if isinstance(obj, polars.LazyFrame) else obj
        return polars_frame_metadata(frame, partitioned=partitioned)


class DuckDBPolarsIOManager(DuckDBIOManager):
    """Stores polars DataFrames returned by assets as tables of a DuckDB file."""

    @staticmethod
    def type_handlers() -> Sequence[DuckDBTypeHandler]:
        """polars DataFrames."""
        return [DuckDBPolarsTypeHandler()]

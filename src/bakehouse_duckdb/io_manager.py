"""`DuckDBIOManager`: stores asset values as DuckDB tables, one type handler per value type.

Subclasses say which types they store through `type_handlers()` (pandas and polars DataFrames
in `bakehouse_duckdb_pandas` and `bakehouse_duckdb_polars`). An unpartitioned asset replaces
its table; a partitioned one replaces only its partition's rows (see `table_slice`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import Field

from bakehouse.authoring.table_metadata import PARTITION_ROW_COUNT, ROW_COUNT
from bakehouse.execution.configurable_io_manager import ConfigurableIOManager
from bakehouse.execution.io_managers import InputContext, OutputContext
from bakehouse_duckdb.connect import connect_with_retry
from bakehouse_duckdb.table_slice import TableSlice, quote_identifier, table_slice


class DuckDBTypeHandler(ABC):
    """Writes values of some Python types to a DuckDB table slice and reads them back."""

    @property
    @abstractmethod
    def supported_types(self) -> Sequence[type]:
        """The types of value this handler stores."""

    @abstractmethod
    def write(self, connection: Any, relation_name: str, obj: Any) -> int:
        """Make `obj` readable in SQL as `relation_name` on `connection`; returns its rows."""

    @abstractmethod
    def read(self, connection: Any, query: str) -> Any:
        """The result of `query` as this handler's type."""

    def metadata(self, obj: Any, *, partitioned: bool) -> Mapping[str, Any]:
        """Metadata about `obj` for its materialization (DataFrames: row count, column schema,
        preview); none by default."""
        return {}


class DuckDBIOManager(ConfigurableIOManager):
    """An IO manager storing values as tables of the DuckDB file `database`.

    `schema` is the schema of assets whose key has no prefix and whose metadata names none.
    """

    database: str = Field(description="Path of the DuckDB database file.")
    schema_: str | None = Field(
        default=None,
        alias="schema",
        description="Schema of assets whose key has no prefix; default 'public'.",
    )
    connection_config: dict[str, Any] = Field(
        default_factory=dict, description="DuckDB configuration options for each connection."
    )

    @staticmethod
    def type_handlers() -> Sequence[DuckDBTypeHandler]:
        """The handlers of the types this IO manager stores, the first used to load inputs."""
        return []

    def _handler_for(self, obj: Any, asset: str) -> DuckDBTypeHandler:
        handlers = self.type_handlers()
        for handler in handlers:
            if isinstance(obj, tuple(handler.supported_types)):
                return handler
        supported = ", ".join(t.__name__ for h in handlers for t in h.supported_types)
        raise TypeError(
            f"{type(self).__name__} cannot store the {type(obj).__name__} returned by asset "
            f"'{asset}': it stores {supported or 'nothing'}"
        )

    def _connect(self) -> Any:
        return connect_with_retry(self.database, config=self.connection_config)

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        """Replace the asset's table (or its partition's rows) with `obj`'s rows."""
        if obj is None:
            return  # the asset wrote its table itself (e.g. returned MaterializeResult)
        asset = context.asset_key.to_user_string()
        handler = self._handler_for(obj, asset)
        where = table_slice(context, context.definition_metadata, self.schema_)
        connection = self._connect()
        try:
            rows = _replace_slice(connection, handler, where, obj)
        finally:
            connection.close()
        partitioned = context.has_asset_partitions
        label = PARTITION_ROW_COUNT if partitioned else ROW_COUNT
        described = handler.metadata(obj, partitioned=partitioned)
        # dagster/table_name is Dagster's fully qualified name: the catalog DuckDB names after
        # the database file, the schema, the table.
        catalog = Path(self.database).stem
        context.add_output_metadata(
            {
                **described,
                label: rows,
                "table": f"{where.schema}.{where.table}",
                "dagster/table_name": f"{catalog}.{where.schema}.{where.table}",
            }
        )

    def load_input(self, context: InputContext) -> Any:
        """The upstream asset's table (its partitions' rows, its `columns` if asked)."""
        columns = context.definition_metadata.get("columns")
        where = table_slice(
            context,
            context.upstream_output.definition_metadata,
            self.schema_,
            columns=list(columns) if columns else None,
        )
        handler = self.type_handlers()[0]
        connection = self._connect()
        try:
            # A TIMESTAMPTZ holds no zone: read it in UTC, not in whatever zone the machine
            # running the step is set to, so a frame loads the same everywhere.
            connection.execute("SET TimeZone = 'UTC'")
            return handler.read(connection, where.select_query())
        finally:
            connection.close()


def _replace_slice(connection: Any, handler: DuckDBTypeHandler, where: TableSlice, obj: Any) -> int:
    """In one transaction: drop the slice's old rows and insert `obj`'s; returns the rows."""
    relation = "__bakehouse_output"
    rows = handler.write(connection, relation, obj)
    connection.execute("BEGIN TRANSACTION")
    try:
        connection.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(where.schema)}")
        if where.where is None:
            connection.execute(
                f"CREATE OR REPLACE TABLE {where.qualified_name} AS SELECT * FROM {relation}"
            )
        else:
            connection.execute(
                f"CREATE TABLE IF NOT EXISTS {where.qualified_name} AS "
                f"SELECT * FROM {relation} WHERE FALSE"
            )
            connection.execute(f"DELETE FROM {where.qualified_name} WHERE {where.where}")
            connection.execute(
                f"INSERT INTO {where.qualified_name} BY NAME SELECT * FROM {relation}"
            )
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    return rows

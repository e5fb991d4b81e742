"""Which table (and which rows of it) an asset's value is stored in: a `TableSlice`.

The table is named after the asset key's last part. Its schema is, first to last: the asset's
``schema`` metadata, the key's prefix (``key_prefix=["raw"]`` stores ``raw.<name>``), the IO
manager's ``schema=``, else ``public``. A partitioned asset stores each partition as the rows
where its ``partition_expr`` metadata (a column or SQL expression) falls in the partition: a
time window as ``>= start AND < end``, other partitions as ``IN (...)``; a multi-partitioned
asset gives ``partition_expr`` per dimension (``{"date": "day", "region": "region"}``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bakehouse.errors import DefinitionError
from bakehouse.graph.keys import AssetKey

DEFAULT_SCHEMA = "public"
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


class _AssetContext(Protocol):
    """What an output or input context tells about the asset it stores or loads."""

    asset_key: AssetKey

    @property
    def has_asset_partitions(self) -> bool: ...

    @property
    def asset_partition_keys(self) -> list[str]: ...

    @property
    def asset_partitions_def(self) -> Any: ...


@dataclass(frozen=True)
class TableSlice:
    """A table and the condition selecting an asset's rows in it (all rows when None)."""

    schema: str
    table: str
    where: str | None = None
    columns: Sequence[str] | None = field(default=None)

    @property
    def qualified_name(self) -> str:
        """``"schema"."table"``, quoted for SQL."""
        return f"{quote_identifier(self.schema)}.{quote_identifier(self.table)}"

    def select_query(self) -> str:
        """The query that reads the slice back."""
        columns = ", ".join(quote_identifier(c) for c in self.columns) if self.columns else "*"
        condition = f" WHERE {self.where}" if self.where else ""
        return f"SELECT {columns} FROM {self.qualified_name}{condition}"


def quote_identifier(name: str) -> str:
    """`name` as a SQL identifier, safe whatever characters it holds."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """`value` as a SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def table_slice(
    context: _AssetContext,
    metadata: Mapping[str, Any],
    default_schema: str | None,
    columns: Sequence[str] | None = None,
) -> TableSlice:
    """The slice of `context`'s asset, from the asset's definition `metadata`."""
    path = context.asset_key.path
    if metadata.get("schema"):
        schema = str(metadata["schema"])
    elif len(path) > 1:
        schema = path[-2]
    else:
        schema = default_schema or DEFAULT_SCHEMA
    where = _partition_where(context, metadata) if context.has_asset_partitions else None
    return TableSlice(schema=schema, table=path[-1], where=where, columns=columns)


def _partition_where(context: _AssetContext, metadata: Mapping[str, Any]) -> str:
    expr = metadata.get("partition_expr")
    name = context.asset_key.to_user_string()
    if not expr:
        raise DefinitionError(
            f"asset '{name}' is partitioned and stored in DuckDB, so it needs "
            "metadata={'partition_expr': '<column>'} naming the column that holds the partition"
        )
    partitions_def = context.asset_partitions_def
    keys = context.asset_partition_keys
    dimensions = getattr(partitions_def, "partitions_defs", None)
    if dimensions is None:
        return _dimension_where(str(expr), partitions_def, keys)
    if not isinstance(expr, Mapping):
        raise DefinitionError(
            f"asset '{name}' is multi-partitioned: give partition_expr as a dict of dimension "
            f"name to column, e.g. {{{', '.join(repr(d.name) + ': ...' for d in dimensions)}}}"
        )
    conditions = []
    for dim in dimensions:
        if dim.name not in expr:
            raise DefinitionError(
                f"asset '{name}': partition_expr has no column for dimension '{dim.name}'"
            )
        dim_keys = list(dict.fromkeys(_dimension_key(k, dim.name) for k in keys))
        conditions.append(_dimension_where(str(expr[dim.name]), dim.partitions_def, dim_keys))
    return " AND ".join(f"({c})" for c in conditions)


def _dimension_key(key: str, dimension: str) -> str:
    by_dimension = getattr(key, "keys_by_dimension", None)
    if by_dimension is None:
        raise DefinitionError(f"partition key {key!r} is not a multi-partition key")
    return str(by_dimension[dimension])


def _dimension_where(expr: str, partitions_def: Any, keys: Sequence[str]) -> str:
    if not keys:
        return "FALSE"
    window_of = getattr(partitions_def, "time_window_for_partition_key", None)
    if _is_time_window(partitions_def) and window_of is not None:
        start = window_of(keys[0]).start.strftime(_TIME_FORMAT)
        end = window_of(keys[-1]).end.strftime(_TIME_FORMAT)
        return f"{expr} >= {quote_literal(start)} AND {expr} < {quote_literal(end)}"
    return f"{expr} IN ({', '.join(quote_literal(k) for k in keys)})"


def _is_time_window(partitions_def: Any) -> bool:
    from bakehouse.authoring.time_window_partitions import TimeWindowPartitionsDefinition

    return isinstance(partitions_def, TimeWindowPartitionsDefinition)

"""The metadata every DataFrame IO manager attaches to a materialization: the row count, the
column schema and a preview of the first rows, under Dagster's keys and metadata types.

Libraries differ in how they name types and hold missing values; their IO managers pass plain
facts here (column names and type names, the first rows as dicts) and get the same metadata.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from bakehouse.authoring.metadata import MetadataValue, TableColumn, TableSchema

ROW_COUNT = "dagster/row_count"
PARTITION_ROW_COUNT = "dagster/partition_row_count"
COLUMN_SCHEMA = "dagster/column_schema"
PREVIEW = "preview"
PREVIEW_ROWS = 5
# A preview is for reading on the asset page, not an export: long texts are cut.
_MAX_TEXT = 200


def frame_metadata(
    *,
    row_count: int,
    columns: Sequence[tuple[str, str]],
    first_rows: Sequence[Mapping[str, Any]],
    partitioned: bool = False,
) -> dict[str, MetadataValue]:
    """``dagster/row_count`` (``dagster/partition_row_count`` for a partition), the
    ``dagster/column_schema`` and a ``preview`` table of `first_rows`, typed.

    `columns` are ``(name, type name)`` pairs in the frame's order.
    """
    schema = TableSchema([TableColumn(name=str(n), type=str(t)) for n, t in columns])
    names = [str(n) for n, _ in columns]
    records = [{name: preview_value(row.get(name)) for name in names} for row in first_rows]
    return {
        (PARTITION_ROW_COUNT if partitioned else ROW_COUNT): MetadataValue.int(row_count),
        COLUMN_SCHEMA: MetadataValue.table_schema(schema),
        PREVIEW: MetadataValue.table(records, schema),
    }


def preview_value(value: Any) -> Any:
    """A cell as the preview stores it: JSON numbers, text and booleans as they are, missing
    values (None, NaN, NaT, pd.NA) as None, times in ISO form, anything else as text."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None if math.isnan(value) else str(value)
    if isinstance(value, str):
        return value if len(value) <= _MAX_TEXT else value[: _MAX_TEXT - 1] + "…"
    if isinstance(value, (datetime.date, datetime.time)):
        # pandas' NaT is a datetime whose isoformat() is "NaT".
        text = value.isoformat()
        return None if text == "NaT" else text
    if isinstance(value, Decimal):
        return str(value)
    if _is_missing(value):
        return None
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        try:
            return preview_value(item())
        except (TypeError, ValueError):
            pass
    return preview_value(str(value))


def _is_missing(value: Any) -> bool:
    # pd.NA and NaT refuse bool(); asking their type's name avoids importing pandas here.
    return type(value).__name__ in ("NAType", "NaTType")


def merge_partition_metadata(per_partition: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One materialization's metadata for values stored as several partitions: the row counts
    added up, the schema and preview of the last partition."""
    merged: dict[str, Any] = {}
    for metadata in per_partition:
        for label, value in metadata.items():
            if label in (ROW_COUNT, PARTITION_ROW_COUNT) and label in merged:
                merged[label] = MetadataValue.int(int(merged[label].value) + int(value.value))
            else:
                merged[label] = value
    return merged

"""Metadata values attached to assets and materializations, and their JSON form.

Every value serializes to ``{"type": ..., "value": ...}`` so storage and the UI can show it
without importing this module. Plain Python values are accepted and typed by `normalize_metadata`.
"""

from __future__ import annotations

import builtins
import datetime
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TableColumn:
    """One column of a `TableSchema`."""

    name: str
    type: str = "string"
    description: str | None = None


@dataclass(frozen=True)
class TableSchema:
    """The columns of a table, for table metadata and previews."""

    columns: Sequence[TableColumn] = field(default_factory=list)


@dataclass(frozen=True)
class TableRecord:
    """One row of a table preview: column name to value."""

    data: Mapping[str, Any]

    def __init__(self, data: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        object.__setattr__(self, "data", dict(data or {}, **kwargs))


@dataclass(frozen=True, eq=False)
class MetadataValue:
    """A typed metadata value; build one with the static constructors (`MetadataValue.md(...)`).

    It also equals the plain value it holds: Dagster keeps raw values in a `MaterializeResult`,
    so its tests compare ``result.metadata["rows"] == 3``; here the value is typed (so
    ``.value`` works too) and that comparison still holds.
    """

    type: str
    value: Any

    def __eq__(self, other: object) -> builtins.bool:
        if isinstance(other, MetadataValue):
            return (self.type, self.value) == (other.type, other.value)
        return builtins.bool(self.value == other)

    def __hash__(self) -> builtins.int:
        try:
            return hash(self.value)
        except TypeError:  # a dict or list: equal values still share the type's hash
            return hash(self.type)

    @staticmethod
    def text(value: str) -> MetadataValue:
        """Plain text."""
        return MetadataValue("text", str(value))

    @staticmethod
    def md(value: str) -> MetadataValue:
        """Markdown, rendered in the UI."""
        return MetadataValue("md", str(value))

    @staticmethod
    def int(value: builtins.int) -> MetadataValue:
        """An integer."""
        return MetadataValue("int", int(value))

    @staticmethod
    def float(value: builtins.float) -> MetadataValue:
        """A float; NaN and infinities are kept as strings, since JSON has no word for them."""
        number = float(value)
        return MetadataValue("float", number if math.isfinite(number) else str(number))

    @staticmethod
    def bool(value: builtins.bool) -> MetadataValue:
        """A boolean."""
        return MetadataValue("bool", bool(value))

    @staticmethod
    def json(value: Any) -> MetadataValue:
        """Any JSON-serializable structure."""
        json.dumps(value)  # fail here, at the user's call, not later in storage
        return MetadataValue("json", value)

    @staticmethod
    def url(value: str) -> MetadataValue:
        """A link."""
        return MetadataValue("url", str(value))

    @staticmethod
    def path(value: str | os.PathLike[str]) -> MetadataValue:
        """A file system path."""
        return MetadataValue("path", os.fspath(value))

    @staticmethod
    def null() -> MetadataValue:
        """No value."""
        return MetadataValue("null", None)

    @staticmethod
    def timestamp(value: builtins.float | datetime.datetime) -> MetadataValue:
        """A point in time: a POSIX timestamp in seconds, or an aware datetime."""
        if isinstance(value, datetime.datetime):
            if value.tzinfo is None:
                raise ValueError("MetadataValue.timestamp needs a timezone-aware datetime")
            value = value.timestamp()
        return MetadataValue("timestamp", float(value))

    @staticmethod
    def dagster_run(run_id: str) -> MetadataValue:
        """A link to a run, by its id."""
        return MetadataValue("dagster_run", str(run_id))

    @staticmethod
    def notebook(path: str | os.PathLike[str]) -> MetadataValue:
        """The path of a notebook (.ipynb) file."""
        return MetadataValue("notebook", os.fspath(path))

    @staticmethod
    def asset(asset_key: Any) -> MetadataValue:
        """A reference to another asset, by key."""
        to_user_string = getattr(asset_key, "to_user_string", None)
        return MetadataValue("asset", to_user_string() if callable(to_user_string) else asset_key)

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> MetadataValue:
        """The value of a stored ``{"type", "value"}`` pair."""
        return MetadataValue(str(data["type"]), data["value"])

    @staticmethod
    def table(
        records: Sequence[TableRecord | Mapping[str, Any]], schema: TableSchema | None = None
    ) -> MetadataValue:
        """A small table, e.g. a preview of the first rows of a dataset."""
        rows = [dict(r.data) if isinstance(r, TableRecord) else dict(r) for r in records]
        if schema is None:
            names: dict[str, None] = {}
            for row in rows:
                names.update(dict.fromkeys(row))
            schema = TableSchema([TableColumn(n) for n in names])
        columns = [
            {"name": c.name, "type": c.type, "description": c.description} for c in schema.columns
        ]
        json.dumps(rows, default=str)
        return MetadataValue("table", {"columns": columns, "records": rows})

    @staticmethod
    def table_schema(schema: TableSchema) -> MetadataValue:
        """The columns of a table, without rows."""
        columns = [
            {"name": c.name, "type": c.type, "description": c.description} for c in schema.columns
        ]
        return MetadataValue("table_schema", {"columns": columns})

    def to_json(self) -> dict[str, Any]:
        """The ``{"type", "value"}`` form stored and shown."""
        if self.type == "table":
            return {"type": self.type, "value": json.loads(json.dumps(self.value, default=str))}
        return {"type": self.type, "value": self.value}


def to_metadata_value(label: str, value: Any) -> MetadataValue:
    """Type a plain Python value; raises `TypeError` naming `label` for unsupported values."""
    if isinstance(value, MetadataValue):
        return value
    if isinstance(value, TableSchema):
        return MetadataValue.table_schema(value)
    if isinstance(value, bool):
        return MetadataValue.bool(value)
    if isinstance(value, int):
        return MetadataValue.int(value)
    if isinstance(value, float):
        return MetadataValue.float(value)
    if isinstance(value, str):
        return MetadataValue.text(value)
    if isinstance(value, os.PathLike):
        return MetadataValue.path(value)
    if value is None:
        return MetadataValue.null()
    if isinstance(value, (dict, list, tuple)):
        try:
            return MetadataValue.json(value)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"metadata {label!r}: value is not JSON-serializable: {exc}") from None
    # numpy scalars and the like convert through item(); everything else is refused clearly.
    item = getattr(value, "item", None)
    if callable(item):
        return to_metadata_value(label, item())
    raise TypeError(
        f"metadata {label!r}: cannot store a {type(value).__name__}; use a MetadataValue, "
        "a str, int, float, bool, dict or list"
    )


def metadata_values(metadata: Mapping[str, Any] | None) -> dict[str, MetadataValue]:
    """Metadata as user code reads it back (``.metadata["rows"].value``): label to
    `MetadataValue`, raw values typed as `to_metadata_value` does."""
    if not metadata:
        return {}
    if not isinstance(metadata, Mapping):
        raise TypeError(f"metadata must be a dict of label to value, got {type(metadata).__name__}")
    return {str(k): to_metadata_value(str(k), v) for k, v in metadata.items()}


def normalize_metadata(metadata: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Metadata as stored: label to ``{"type", "value"}``."""
    if not metadata:
        return {}
    if not isinstance(metadata, Mapping):
        raise TypeError(f"metadata must be a dict of label to value, got {type(metadata).__name__}")
    return {str(k): to_metadata_value(str(k), v).to_json() for k, v in metadata.items()}

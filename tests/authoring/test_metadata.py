"""Metadata values: typed constructors, plain values typed on the way in, and the stored form."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

import bakehouse as dg
from bakehouse.authoring.metadata import normalize_metadata, to_metadata_value


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        (dg.MetadataValue.md("# Title"), {"type": "md", "value": "# Title"}),
        (dg.MetadataValue.text("plain"), {"type": "text", "value": "plain"}),
        (dg.MetadataValue.int(3), {"type": "int", "value": 3}),
        (dg.MetadataValue.float(1.5), {"type": "float", "value": 1.5}),
        (dg.MetadataValue.bool(False), {"type": "bool", "value": False}),
        (dg.MetadataValue.json({"a": [1, 2]}), {"type": "json", "value": {"a": [1, 2]}}),
        (dg.MetadataValue.url("https://x.org"), {"type": "url", "value": "https://x.org"}),
        (dg.MetadataValue.path(Path("/data/o.csv")), {"type": "path", "value": "/data/o.csv"}),
        (dg.MetadataValue.null(), {"type": "null", "value": None}),
        (dg.MetadataValue.timestamp(10), {"type": "timestamp", "value": 10.0}),
    ],
)
def test_typed_values_store_as_type_and_value(
    value: dg.MetadataValue, stored: dict[str, Any]
) -> None:
    assert value.to_json() == stored
    assert json.loads(json.dumps(value.to_json())) == stored


def test_non_finite_floats_are_kept_as_strings() -> None:
    assert dg.MetadataValue.float(math.nan).value == "nan"
    assert dg.MetadataValue.float(math.inf).value == "inf"
    json.dumps(dg.MetadataValue.float(math.inf).to_json(), allow_nan=False)


def test_json_refuses_what_json_cannot_hold_at_the_call() -> None:
    with pytest.raises(TypeError):
        dg.MetadataValue.json({"when": object()})


def test_table_infers_columns_from_records_or_takes_a_schema() -> None:
    inferred = dg.MetadataValue.table(
        [dg.TableRecord({"id": 1, "name": "a"}), dg.TableRecord(id=2, extra=True)]
    )
    assert inferred.to_json() == {
        "type": "table",
        "value": {
            "columns": [
                {"name": "id", "type": "string", "description": None},
                {"name": "name", "type": "string", "description": None},
                {"name": "extra", "type": "string", "description": None},
            ],
            "records": [{"id": 1, "name": "a"}, {"id": 2, "extra": True}],
        },
    }
    schema = dg.TableSchema([dg.TableColumn("id", "int", "the id")])
    typed = dg.MetadataValue.table([{"id": 1}], schema=schema)
    assert typed.value["columns"] == [{"name": "id", "type": "int", "description": "the id"}]


def test_table_schema_value() -> None:
    schema = dg.TableSchema([dg.TableColumn("id", "int")])
    assert to_metadata_value("s", schema).to_json() == {
        "type": "table_schema",
        "value": {"columns": [{"name": "id", "type": "int", "description": None}]},
    }


class _NumpyLike:
    def item(self) -> float:
        return 2.5


@pytest.mark.parametrize(
    ("plain", "kind"),
    [
        (True, "bool"),  # before int: bool is an int subclass
        (7, "int"),
        (0.5, "float"),
        ("s", "text"),
        (Path("/p"), "path"),
        (None, "null"),
        ({"a": 1}, "json"),
        ([1, 2], "json"),
        (_NumpyLike(), "float"),
    ],
)
def test_plain_values_are_typed(plain: object, kind: str) -> None:
    assert to_metadata_value("label", plain).type == kind


def test_unsupported_values_name_the_label() -> None:
    with pytest.raises(TypeError, match="metadata 'when': cannot store a object"):
        to_metadata_value("when", object())
    with pytest.raises(TypeError, match="metadata 'rows': value is not JSON-serializable"):
        to_metadata_value("rows", [object()])


def test_normalize_metadata_stores_every_label() -> None:
    assert normalize_metadata({"n": 1, "md": dg.MetadataValue.md("x")}) == {
        "n": {"type": "int", "value": 1},
        "md": {"type": "md", "value": "x"},
    }
    assert normalize_metadata(None) == {}
    with pytest.raises(TypeError, match="metadata must be a dict"):
        normalize_metadata([("n", 1)])  # type: ignore[arg-type]

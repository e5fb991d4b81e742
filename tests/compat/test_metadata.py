"""Metadata values, from the examples of Dagster's metadata docs, run unchanged but for
``import bakehouse as dg``: raw values are typed into `MetadataValue`s wherever metadata is
given, and each constructor keeps its value."""

from __future__ import annotations

import datetime

import pytest

import bakehouse as dg
from bakehouse.web.metadata_html import render_value


def test_raw_values_in_results_become_metadata_values() -> None:
    materialized = dg.MaterializeResult(metadata={"num_rows": 3, "label": "x", "ok": True})
    assert materialized.metadata["num_rows"] == dg.MetadataValue.int(3)
    assert materialized.metadata["label"].value == "x"
    assert materialized.metadata["ok"].value is True

    output = dg.Output([1, 2], metadata={"share": 0.5, "cols": ["a", "b"]})
    assert output.metadata is not None
    assert output.metadata["share"] == dg.MetadataValue.float(0.5)
    assert output.metadata["cols"] == dg.MetadataValue.json(["a", "b"])

    check = dg.AssetCheckResult(passed=True, metadata={"nulls": 0})
    assert check.metadata["nulls"].value == 0


def test_metadata_values_given_stay_as_they_are() -> None:
    preview = dg.MetadataValue.md("| a |\n|---|\n| 1 |")
    assert dg.MaterializeResult(metadata={"preview": preview}).metadata["preview"] is preview


def test_metadata_added_through_the_context_is_typed_and_recorded() -> None:
    @dg.asset
    def topstories(context: dg.AssetExecutionContext) -> list[int]:
        context.add_output_metadata({"num_records": 2, "preview": dg.MetadataValue.md("*2*")})
        return [1, 2]

    [event] = dg.materialize([topstories]).get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert metadata["num_records"] == dg.MetadataValue.int(2)
    assert metadata["preview"].value == "*2*"


def test_each_constructor_keeps_its_value_and_round_trips_through_a_run() -> None:
    when = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    given = {
        "md": dg.MetadataValue.md("# title"),
        "json": dg.MetadataValue.json({"a": [1, 2]}),
        "table": dg.MetadataValue.table(
            records=[dg.TableRecord({"name": "a", "n": 1})],
            schema=dg.TableSchema(
                columns=[dg.TableColumn("name", "string"), dg.TableColumn("n", "int")]
            ),
        ),
        "path": dg.MetadataValue.path("/data/out.csv"),
        "url": dg.MetadataValue.url("https://example.com"),
        "int": dg.MetadataValue.int(7),
        "float": dg.MetadataValue.float(1.5),
        "text": dg.MetadataValue.text("hello"),
        "bool": dg.MetadataValue.bool(False),
        "timestamp": dg.MetadataValue.timestamp(when),
        "dagster_run": dg.MetadataValue.dagster_run("0b4e5c0a"),
        "null": dg.MetadataValue.null(),
        "notebook": dg.MetadataValue.notebook("analysis.ipynb"),
        "table_schema": dg.MetadataValue.table_schema(
            dg.TableSchema(columns=[dg.TableColumn("id", "int")])
        ),
    }
    assert given["timestamp"].value == when.timestamp()
    assert given["dagster_run"].value == "0b4e5c0a"
    assert given["table"].value["records"] == [{"name": "a", "n": 1}]

    @dg.asset
    def described() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata=given)

    [event] = dg.materialize([described]).get_asset_materialization_events()
    assert dict(event.materialization.metadata) == given
    for value in given.values():
        assert render_value(value.to_json())  # every kind has a rendering in the UI


def test_a_naive_datetime_timestamp_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        dg.MetadataValue.timestamp(datetime.datetime(2024, 1, 1))


def test_a_value_that_cannot_be_metadata_is_refused_where_it_is_given() -> None:
    with pytest.raises(TypeError, match="metadata 'frame'"):
        dg.MaterializeResult(metadata={"frame": object()})


def test_a_typed_value_still_equals_the_raw_value_dagster_would_keep() -> None:
    # Dagster keeps raw values in MaterializeResult.metadata, so its tests compare them raw;
    # bakehouse types them (on purpose, so .value works everywhere) and keeps that comparison.
    result = dg.MaterializeResult(metadata={"num_rows": 3, "tables": ["a"]})
    assert result.metadata == {"num_rows": 3, "tables": ["a"]}
    assert result.metadata["num_rows"].value == 3

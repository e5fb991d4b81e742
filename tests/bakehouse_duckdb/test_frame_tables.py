"""DuckDB DataFrame IO managers beyond the course examples: what a frame's dtypes become in a
table and back, the metadata each output carries, and inputs over several partitions (static,
time window, multi) read as one frame through the partition column's WHERE."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
from pandas.testing import assert_frame_equal

import bakehouse as dg
from bakehouse_duckdb_pandas import DuckDBPandasIOManager
from bakehouse_duckdb_polars import DuckDBPolarsIOManager

seen: dict[str, Any] = {}
REGIONS = dg.StaticPartitionsDefinition(["us", "eu", "asia"])
DAILY = dg.DailyPartitionsDefinition(start_date="2024-01-01")


def pandas_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": pd.array([1, None, 3], dtype="Int64"),
            "kind": pd.Categorical(["bread", "cake", "bread"]),
            "baked_at": pd.to_datetime(["2024-01-01 06:30", None, "2024-01-03 08:00"]).tz_localize(
                "UTC"
            ),
            "price": [1.5, float("nan"), 2.25],
            "fresh": pd.array([True, None, False], dtype="boolean"),
            "name": ["rye", None, "spelt"],
        }
    )


@dg.asset
def loaves() -> pd.DataFrame:
    return pandas_frame()


@dg.asset
def loaves_read(loaves: pd.DataFrame) -> None:
    seen["loaves"] = loaves


def test_pandas_dtypes_that_duckdb_holds_come_back(tmp_path: Path) -> None:
    manager = DuckDBPandasIOManager(database=str(tmp_path / "db.duckdb"))

    assert dg.materialize([loaves, loaves_read], resources={"io_manager": manager}).success

    # Nullable integers and booleans, categoricals (a DuckDB ENUM, which is ordered), UTC
    # datetimes and missing values survive.
    loaded = seen["loaves"]
    assert loaded["kind"].cat.ordered
    loaded["kind"] = loaded["kind"].cat.as_unordered()
    assert_frame_equal(loaded, pandas_frame(), check_dtype=True)


def test_pandas_outputs_carry_row_count_schema_and_preview(tmp_path: Path) -> None:
    manager = DuckDBPandasIOManager(database=str(tmp_path / "db.duckdb"))

    metadata = dg.materialize([loaves], resources={"io_manager": manager}).metadata_for("loaves")

    assert metadata["dagster/row_count"] == {"type": "int", "value": 3}
    assert metadata["table"] == {"type": "text", "value": "public.loaves"}
    assert metadata["dagster/table_name"] == {"type": "text", "value": "db.public.loaves"}
    columns = metadata["dagster/column_schema"]["value"]["columns"]
    assert [c["name"] for c in columns] == ["id", "kind", "baked_at", "price", "fresh", "name"]
    assert columns[0]["type"] == "Int64"
    records = metadata["preview"]["value"]["records"]
    assert records[1] == {
        "id": None,
        "kind": "cake",
        "baked_at": None,
        "price": None,
        "fresh": None,
        "name": None,
    }
    assert records[0]["baked_at"] == "2024-01-01T06:30:00+00:00"


def polars_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "id": pl.Series([1, None, 3], dtype=pl.Int32),
            "name": pl.Series(["rye", None, "spelt"], dtype=pl.String),
            "baked_at": pl.Series(
                [datetime.datetime(2024, 1, 1, 6, 30), None, datetime.datetime(2024, 1, 3, 8)],
                dtype=pl.Datetime("us", "UTC"),
            ),
            "day": pl.Series([datetime.date(2024, 1, 1)] * 3, dtype=pl.Date),
        }
    )


def test_polars_frames_round_trip_and_carry_metadata(tmp_path: Path) -> None:
    @dg.asset
    def rolls() -> pl.LazyFrame:
        return polars_frame().lazy()

    @dg.asset
    def rolls_read(rolls: pl.DataFrame) -> None:
        seen["rolls"] = rolls

    manager = DuckDBPolarsIOManager(database=str(tmp_path / "db.duckdb"))
    result = dg.materialize([rolls, rolls_read], resources={"io_manager": manager})

    assert result.success
    assert seen["rolls"].to_dicts() == polars_frame().to_dicts()
    assert seen["rolls"].schema["id"] == pl.Int32
    metadata = result.metadata_for("rolls")
    assert metadata["dagster/row_count"]["value"] == 3
    assert [c["type"] for c in metadata["dagster/column_schema"]["value"]["columns"]] == [
        "Int32",
        "String",
        "Datetime(time_unit='us', time_zone='UTC')",
        "Date",
    ]
    assert metadata["preview"]["value"]["records"][2]["day"] == "2024-01-01"


@dg.asset(partitions_def=REGIONS, metadata={"partition_expr": "region"})
def orders(context: dg.AssetExecutionContext) -> pd.DataFrame:
    return pd.DataFrame({"region": [context.partition_key] * 2, "n": [1, 2]})


@dg.asset
def all_orders(orders: pd.DataFrame) -> None:
    seen["all_orders"] = orders


def test_an_unpartitioned_input_reads_every_stored_partition_as_one_frame(tmp_path: Path) -> None:
    resources = {"io_manager": DuckDBPandasIOManager(database=str(tmp_path / "db.duckdb"))}
    for region in ("us", "eu", "asia"):
        result = dg.materialize([orders], partition_key=region, resources=resources)
        assert result.metadata_for("orders")["dagster/partition_row_count"]["value"] == 2

    assert dg.materialize(
        [orders, all_orders], selection=["all_orders"], resources=resources
    ).success
    assert sorted(seen["all_orders"]["region"]) == ["asia", "asia", "eu", "eu", "us", "us"]


@dg.asset(partitions_def=DAILY, metadata={"partition_expr": "day"})
def daily_bakes(context: dg.AssetExecutionContext) -> pl.DataFrame:
    day = datetime.date.fromisoformat(context.partition_key)
    return pl.DataFrame({"day": [day], "loaves": [day.day]})


@dg.asset(partitions_def=dg.WeeklyPartitionsDefinition(start_date="2024-01-07"))
def weekly_bakes(daily_bakes: pl.DataFrame) -> None:
    seen["weekly_bakes"] = daily_bakes


def test_a_weekly_input_reads_its_days_through_the_time_window(tmp_path: Path) -> None:
    resources = {"io_manager": DuckDBPolarsIOManager(database=str(tmp_path / "db.duckdb"))}
    for day in range(5, 16):  # 2024-01-05 .. 2024-01-15: the week of the 7th and its edges
        key = f"2024-01-{day:02d}"
        assert dg.materialize([daily_bakes], partition_key=key, resources=resources).success

    result = dg.materialize(
        [daily_bakes, weekly_bakes],
        selection=["weekly_bakes"],
        partition_key="2024-01-07",
        resources=resources,
    )

    assert result.success
    assert sorted(seen["weekly_bakes"]["loaves"].to_list()) == list(range(7, 14))


MULTI = dg.MultiPartitionsDefinition(
    {"date": dg.DailyPartitionsDefinition(start_date="2024-01-01"), "region": REGIONS}
)


@dg.asset(partitions_def=MULTI, metadata={"partition_expr": {"date": "day", "region": "region"}})
def shipments(context: dg.AssetExecutionContext) -> pd.DataFrame:
    keys = context.partition_key.keys_by_dimension  # type: ignore[attr-defined]
    return pd.DataFrame({"day": [pd.Timestamp(keys["date"])], "region": [keys["region"]], "n": [1]})


@dg.asset
def all_shipments(shipments: pd.DataFrame) -> None:
    seen["all_shipments"] = shipments


def test_a_multi_partitioned_asset_reads_back_as_one_frame(tmp_path: Path) -> None:
    resources = {"io_manager": DuckDBPandasIOManager(database=str(tmp_path / "db.duckdb"))}
    stored = [("2024-01-01", "us"), ("2024-01-02", "us"), ("2024-01-01", "eu")]
    for date, region in stored:
        key = dg.MultiPartitionKey({"date": date, "region": region})
        assert dg.materialize([shipments], partition_key=key, resources=resources).success

    # Every partition of both dimensions: one WHERE per dimension, one frame of the rows stored.
    assert dg.materialize(
        [shipments, all_shipments], selection=["all_shipments"], resources=resources
    ).success
    got = seen["all_shipments"].sort_values(["day", "region"])
    assert [(str(d.date()), r) for d, r in zip(got["day"], got["region"], strict=False)] == [
        ("2024-01-01", "eu"),
        ("2024-01-01", "us"),
        ("2024-01-02", "us"),
    ]

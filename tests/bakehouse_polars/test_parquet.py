"""PolarsParquetIOManager: frames round-trip with their dtypes, LazyFrames are collected, one
file per partition, a dict for several partitions, s3:// (moto), metadata on every output."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import polars as pl
from polars.testing import assert_frame_equal

import bakehouse as dg
from bakehouse.storage.records import PARTITION_RANGE_END_TAG, PARTITION_RANGE_START_TAG
from bakehouse_polars import PolarsParquetIOManager
from tests.support.s3 import S3Server

DAILY = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-04")
seen: dict[str, Any] = {}


def typed_frame(day: str = "2024-01-01") -> pl.DataFrame:
    """Nullable integers, strings, categoricals, enums and zoned datetimes."""
    start = datetime.datetime.fromisoformat(f"{day}T06:30:00+00:00")
    return pl.DataFrame(
        {
            "id": pl.Series([1, None, 3], dtype=pl.Int32),
            "name": pl.Series(["rye", None, "spelt"], dtype=pl.String),
            "kind": pl.Series(["bread", "cake", "bread"], dtype=pl.Categorical),
            "size": pl.Series(["s", "l", "m"], dtype=pl.Enum(["s", "m", "l"])),
            "baked_at": pl.Series(
                [start, None, start + datetime.timedelta(hours=2)],
                dtype=pl.Datetime("us", "Europe/Paris"),
            ),
            "day": pl.Series([datetime.date.fromisoformat(day)] * 3, dtype=pl.Date),
        }
    )


@dg.asset
def loaves() -> pl.DataFrame:
    return typed_frame()


@dg.asset
def lazy_loaves() -> pl.LazyFrame:
    return typed_frame().lazy().filter(pl.col("id").is_not_null())


@dg.asset
def both(loaves: pl.DataFrame, lazy_loaves: pl.DataFrame) -> None:
    seen["loaves"], seen["lazy_loaves"] = loaves, lazy_loaves


@dg.asset(partitions_def=DAILY)
def bakes(context: dg.AssetExecutionContext) -> pl.DataFrame:
    return typed_frame(context.partition_key)


@dg.asset(partitions_def=DAILY)
def bake_report(bakes: pl.DataFrame) -> None:
    seen["bake_report"] = bakes


@dg.asset
def all_bakes(bakes: dict[str, pl.DataFrame]) -> None:
    seen["all_bakes"] = bakes


def test_frames_round_trip_with_their_dtypes_and_lazy_frames_are_collected(
    tmp_path: Path,
) -> None:
    resources = {"io_manager": PolarsParquetIOManager(base_dir=str(tmp_path))}

    result = dg.materialize([loaves, lazy_loaves, both], resources=resources)

    assert result.success
    assert_frame_equal(seen["loaves"], typed_frame())
    assert_frame_equal(seen["lazy_loaves"], typed_frame().filter(pl.col("id").is_not_null()))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lazy_loaves.parquet", "loaves.parquet"]
    assert result.metadata_for("lazy_loaves")["dagster/row_count"]["value"] == 2


def test_partitions_are_files_one_loads_as_a_frame_several_as_a_dict(tmp_path: Path) -> None:
    resources = {"io_manager": PolarsParquetIOManager(base_dir=str(tmp_path))}
    days = ["2024-01-01", "2024-01-02", "2024-01-03"]
    for day in days:
        assert dg.materialize([bakes], partition_key=day, resources=resources).success

    assert sorted(p.name for p in (tmp_path / "bakes").iterdir()) == [f"{d}.parquet" for d in days]
    assert dg.materialize(
        [bakes, bake_report],
        selection=["bake_report"],
        partition_key="2024-01-02",
        resources=resources,
    ).success
    assert_frame_equal(seen["bake_report"], typed_frame("2024-01-02"))
    assert dg.materialize([bakes, all_bakes], selection=["all_bakes"], resources=resources).success
    assert list(seen["all_bakes"]) == days
    assert_frame_equal(seen["all_bakes"]["2024-01-03"], typed_frame("2024-01-03"))


def test_a_range_run_writes_each_partition_and_adds_up_the_row_counts(tmp_path: Path) -> None:
    @dg.asset(partitions_def=DAILY, backfill_policy=dg.BackfillPolicy.single_run())
    def ranged(context: dg.AssetExecutionContext) -> dict[str, pl.DataFrame]:
        return {key: typed_frame(key) for key in context.partition_keys}

    resources = {"io_manager": PolarsParquetIOManager(base_dir=str(tmp_path))}
    result = dg.materialize(
        [ranged],
        tags={PARTITION_RANGE_START_TAG: "2024-01-01", PARTITION_RANGE_END_TAG: "2024-01-03"},
        resources=resources,
    )

    assert result.success
    assert len(list((tmp_path / "ranged").iterdir())) == 3
    assert result.metadata_for("ranged")["dagster/partition_row_count"]["value"] == 9


def test_every_output_carries_row_count_schema_and_preview(tmp_path: Path) -> None:
    resources = {"io_manager": PolarsParquetIOManager(base_dir=str(tmp_path))}

    metadata = dg.materialize([loaves], resources=resources).metadata_for("loaves")

    assert metadata["dagster/row_count"] == {"type": "int", "value": 3}
    columns = metadata["dagster/column_schema"]["value"]["columns"]
    assert [(c["name"], c["type"]) for c in columns] == [
        ("id", "Int32"),
        ("name", "String"),
        ("kind", "Categorical"),
        ("size", "Enum(categories=['s', 'm', 'l'])"),
        ("baked_at", "Datetime(time_unit='us', time_zone='Europe/Paris')"),
        ("day", "Date"),
    ]
    records = metadata["preview"]["value"]["records"]
    assert records[0] == {
        "id": 1,
        "name": "rye",
        "kind": "bread",
        "size": "s",
        "baked_at": "2024-01-01T07:30:00+01:00",
        "day": "2024-01-01",
    }
    assert records[1]["id"] is None
    assert records[1]["baked_at"] is None


def test_frames_under_an_s3_url(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    manager = PolarsParquetIOManager(
        base_dir=f"s3://{bucket}/lake", storage_options=s3_server.storage_options()
    )
    resources = {"io_manager": manager}
    assert dg.materialize([loaves, lazy_loaves, both], resources=resources).success
    assert dg.materialize([bakes], partition_key="2024-01-01", resources=resources).success

    assert s3_server.keys(bucket) == [
        "lake/bakes/2024-01-01.parquet",
        "lake/lazy_loaves.parquet",
        "lake/loaves.parquet",
    ]
    assert_frame_equal(seen["loaves"], typed_frame())


@dg.asset
def lazy_reader(loaves: pl.LazyFrame) -> None:
    seen["lazy_reader"] = loaves


@dg.asset
def lazy_days(bakes: dict[str, pl.LazyFrame]) -> None:
    seen["lazy_days"] = bakes


@dg.asset
def maybe_reader(never_stored: pl.DataFrame | None) -> None:
    seen["maybe_reader"] = never_stored


@dg.asset
def never_stored() -> pl.DataFrame:
    return pl.DataFrame({"x": [1]})


def test_an_input_annotated_lazy_is_a_lazy_frame(tmp_path: Path) -> None:
    resources = {"io_manager": PolarsParquetIOManager(base_dir=str(tmp_path))}
    assert dg.materialize([loaves, lazy_reader], resources=resources).success
    assert isinstance(seen["lazy_reader"], pl.LazyFrame)
    assert_frame_equal(seen["lazy_reader"].collect(), typed_frame())

    for day in ("2024-01-01", "2024-01-02", "2024-01-03"):
        assert dg.materialize([bakes], partition_key=day, resources=resources).success
    assert dg.materialize([bakes, lazy_days], selection=["lazy_days"], resources=resources).success
    assert all(isinstance(f, pl.LazyFrame) for f in seen["lazy_days"].values())


def test_a_lazy_input_from_s3_is_a_lazy_frame_too(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    manager = PolarsParquetIOManager(
        base_dir=f"s3://{bucket}/lake", storage_options=s3_server.storage_options()
    )
    assert dg.materialize([loaves, lazy_reader], resources={"io_manager": manager}).success
    assert_frame_equal(seen["lazy_reader"].collect(), typed_frame())


def test_a_missing_input_annotated_optional_is_none(tmp_path: Path) -> None:
    resources = {"io_manager": PolarsParquetIOManager(base_dir=str(tmp_path))}
    result = dg.materialize(
        [never_stored, maybe_reader], selection=["maybe_reader"], resources=resources
    )
    assert result.success
    assert seen["maybe_reader"] is None

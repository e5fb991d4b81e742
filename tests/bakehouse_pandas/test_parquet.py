"""PandasParquetIOManager: frames round-trip with their dtypes, one file per partition, a
dict for several partitions, the same layout under s3:// (moto), metadata on every output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import bakehouse as dg
from bakehouse.execution.io_managers import MissingValueError
from bakehouse_pandas import PandasParquetIOManager
from bakehouse_pandas.metadata import pandas_frame_metadata
from tests.support.s3 import S3Server

REGIONS = dg.StaticPartitionsDefinition(["us", "eu"])
DAILY = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-03")
seen: dict[str, Any] = {}


def typed_frame(n: int = 3, region: str = "us") -> pd.DataFrame:
    """A frame of the dtypes that a pickle keeps and a careless format loses."""
    return pd.DataFrame(
        {
            "id": pd.array([*range(1, n), None], dtype="Int64"),
            "name": pd.array([*(f"{region}-{i}" for i in range(1, n)), None], dtype="string"),
            "kind": pd.Categorical(["bread", "cake", "bread"][:n], categories=["bread", "cake"]),
            "baked_at": pd.to_datetime(
                [*(f"2024-01-0{i} 06:30" for i in range(1, n)), None]
            ).tz_localize("Europe/Paris"),
            "price": [1.5, float("nan"), 2.25][:n],
            "fresh": pd.array([True, None, False][:n], dtype="boolean"),
        }
    )


@dg.asset
def loaves() -> pd.DataFrame:
    return typed_frame()


@dg.asset
def loaf_count(loaves: pd.DataFrame) -> None:
    seen["loaves"] = loaves


@dg.asset(partitions_def=REGIONS)
def sales(context: dg.AssetExecutionContext) -> pd.DataFrame:
    return typed_frame(region=context.partition_key)


@dg.asset
def all_sales(sales: dict[str, pd.DataFrame]) -> None:
    seen["all_sales"] = sales


@dg.asset(partitions_def=REGIONS)
def region_report(sales: pd.DataFrame) -> None:
    seen["region_report"] = sales


@dg.asset(ins={"loaves": dg.AssetIn(metadata={"columns": ["id", "kind"]})})
def ids(loaves: pd.DataFrame) -> None:
    seen["ids"] = loaves


def test_a_frame_round_trips_with_its_dtypes(tmp_path: Path) -> None:
    manager = PandasParquetIOManager(base_dir=str(tmp_path))

    result = dg.materialize([loaves, loaf_count], resources={"io_manager": manager})

    assert result.success
    assert (tmp_path / "loaves.parquet").is_file()
    assert_frame_equal(seen["loaves"], typed_frame())
    assert pd.read_parquet(tmp_path / "loaves.parquet")["kind"].dtype == "category"


def test_each_partition_is_a_file_and_several_load_as_a_dict(tmp_path: Path) -> None:
    resources = {"io_manager": PandasParquetIOManager(base_dir=str(tmp_path))}
    for region in ("us", "eu"):
        assert dg.materialize([sales], partition_key=region, resources=resources).success

    assert sorted(p.name for p in (tmp_path / "sales").iterdir()) == ["eu.parquet", "us.parquet"]
    assert dg.materialize([sales, all_sales], selection=["all_sales"], resources=resources).success
    assert set(seen["all_sales"]) == {"us", "eu"}
    assert_frame_equal(seen["all_sales"]["eu"], typed_frame(region="eu"))

    # A partitioned downstream reads its own partition: one frame, not a dict.
    result = dg.materialize(
        [sales, region_report], selection=["region_report"], partition_key="eu", resources=resources
    )
    assert result.success
    assert_frame_equal(seen["region_report"], typed_frame(region="eu"))


def test_an_input_loads_only_the_columns_its_metadata_names(tmp_path: Path) -> None:
    resources = {"io_manager": PandasParquetIOManager(base_dir=str(tmp_path))}
    assert dg.materialize([loaves, ids], resources=resources).success
    assert list(seen["ids"].columns) == ["id", "kind"]
    assert seen["ids"]["kind"].dtype == "category"


def test_every_output_carries_row_count_schema_and_preview(tmp_path: Path) -> None:
    resources = {"io_manager": PandasParquetIOManager(base_dir=str(tmp_path))}

    metadata = dg.materialize([loaves], resources=resources).metadata_for("loaves")

    assert metadata["dagster/row_count"] == {"type": "int", "value": 3}
    schema = metadata["dagster/column_schema"]
    assert schema["type"] == "table_schema"
    assert [(c["name"], c["type"]) for c in schema["value"]["columns"]] == [
        ("id", "Int64"),
        ("name", "string"),
        ("kind", "category"),
        ("baked_at", "datetime64[us, Europe/Paris]"),
        ("price", "float64"),
        ("fresh", "boolean"),
    ]
    preview = metadata["preview"]
    assert preview["type"] == "table"
    assert preview["value"]["records"] == [
        {
            "id": 1,
            "name": "us-1",
            "kind": "bread",
            "baked_at": "2024-01-01T06:30:00+01:00",
            "price": 1.5,
            "fresh": True,
        },
        {
            "id": 2,
            "name": "us-2",
            "kind": "cake",
            "baked_at": "2024-01-02T06:30:00+01:00",
            "price": None,
            "fresh": None,
        },
        {
            "id": None,
            "name": None,
            "kind": "bread",
            "baked_at": None,
            "price": 2.25,
            "fresh": False,
        },
    ]
    assert metadata["path"] == {"type": "path", "value": str(tmp_path / "loaves.parquet")}


def test_a_partition_reports_its_own_row_count(tmp_path: Path) -> None:
    resources = {"io_manager": PandasParquetIOManager(base_dir=str(tmp_path))}
    result = dg.materialize([sales], partition_key="us", resources=resources)
    assert result.metadata_for("sales")["dagster/partition_row_count"]["value"] == 3


def test_the_preview_keeps_only_the_first_rows() -> None:
    frame = pd.DataFrame({"n": range(100)})
    metadata = pandas_frame_metadata(frame)
    assert metadata["dagster/row_count"].value == 100
    assert metadata["preview"].value["records"] == [{"n": i} for i in range(5)]


def test_without_base_dir_the_instance_storage_folder_is_used(tmp_path: Path) -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        storage_dir = Path(instance.storage.storage_dir)
        result = dg.materialize(
            [loaves], resources={"io_manager": PandasParquetIOManager()}, instance=instance
        )
        assert result.success
        assert (storage_dir / "loaves.parquet").is_file()


def test_a_value_that_is_not_a_frame_is_refused_by_type(tmp_path: Path) -> None:
    @dg.asset
    def not_a_frame() -> list[int]:
        return [1]

    with pytest.raises(TypeError, match="returned a list; PandasParquetUPathIOManager stores"):
        dg.materialize(
            [not_a_frame], resources={"io_manager": PandasParquetIOManager(base_dir=str(tmp_path))}
        )


def test_frames_under_an_s3_url_keep_the_layout(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    manager = PandasParquetIOManager(
        base_dir=f"s3://{bucket}/lake", storage_options=s3_server.storage_options()
    )
    resources = {"io_manager": manager}
    for region in ("us", "eu"):
        assert dg.materialize([sales], partition_key=region, resources=resources).success
    assert dg.materialize([sales, all_sales], selection=["all_sales"], resources=resources).success

    assert s3_server.keys(bucket) == ["lake/sales/eu.parquet", "lake/sales/us.parquet"]
    assert_frame_equal(seen["all_sales"]["us"], typed_frame(region="us"))


def test_a_missing_partition_file_is_named(tmp_path: Path) -> None:
    resources = {"io_manager": PandasParquetIOManager(base_dir=str(tmp_path))}
    assert dg.materialize([sales], partition_key="us", resources=resources).success
    with pytest.raises(MissingValueError, match=r"partition 'eu' of asset 'sales'.*eu\.parquet"):
        dg.materialize([sales, all_sales], selection=["all_sales"], resources=resources)

"""End to end: ``bh launch`` runs a project whose pandas and polars assets are stored as Parquet
in S3 (moto), each step in its own process, and the instance keeps each materialization's row
count, column schema and preview with their metadata types."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import polars as pl
import pytest

from bakehouse.storage import Instance
from tests.support.faults import bh
from tests.support.projects import write_project
from tests.support.s3 import ACCESS_KEY, REGION, SECRET_KEY, S3Server

ASSETS = """\
import os

import pandas as pd
import polars as pl

import bakehouse as dg
from bakehouse_pandas import PandasParquetIOManager
from bakehouse_polars import PolarsParquetIOManager

REGIONS = dg.StaticPartitionsDefinition(["us", "eu"])
S3 = {
    "endpoint_url": os.environ["LAKE_ENDPOINT"],
    "key": os.environ["AWS_ACCESS_KEY_ID"],
    "secret": os.environ["AWS_SECRET_ACCESS_KEY"],
    "client_kwargs": {"region_name": os.environ["AWS_DEFAULT_REGION"]},
}


@dg.asset(partitions_def=REGIONS, io_manager_key="pandas_lake")
def orders(context: dg.AssetExecutionContext) -> pd.DataFrame:
    region = context.partition_key
    return pd.DataFrame(
        {
            "region": pd.Categorical([region] * 3),
            "amount": pd.array([10, None, 30], dtype="Int64"),
        }
    )


@dg.asset(io_manager_key="polars_lake")
def totals(orders: dict[str, pd.DataFrame]) -> pl.DataFrame:
    frame = pl.from_pandas(pd.concat(orders.values(), ignore_index=True))
    return frame.group_by("region").agg(pl.col("amount").sum()).sort("region")


job = dg.define_asset_job(
    "lake",
    selection=["totals"],
    executor_def=dg.multiprocess_executor.configured({"max_concurrent": 2}),
)

defs = dg.Definitions(
    resources={
        "pandas_lake": PandasParquetIOManager(
            base_dir=f"s3://{os.environ['LAKE_BUCKET']}/lake", storage_options=S3
        ),
        "polars_lake": PolarsParquetIOManager(
            base_dir=f"s3://{os.environ['LAKE_BUCKET']}/lake", storage_options=S3
        ),
    }
)
"""


@pytest.mark.slow
def test_a_launched_run_stores_frames_in_s3_and_their_metadata_in_the_instance(
    tmp_path: Path, s3_server: S3Server
) -> None:
    bucket = s3_server.new_bucket()
    project = write_project(tmp_path / "lake", "lake", {"defs/assets.py": ASSETS})
    env = {
        "LAKE_ENDPOINT": s3_server.endpoint_url,
        "LAKE_BUCKET": bucket,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": REGION,
    }
    for region in ("us", "eu"):
        done = bh("launch", "--assets", "orders", "--partition", region, cwd=project, env=env)
        assert done.returncode == 0, done.stdout + done.stderr
    done = bh("launch", "--job", "lake", cwd=project, env=env, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr

    assert s3_server.keys(bucket) == [
        "lake/orders/eu.parquet",
        "lake/orders/us.parquet",
        "lake/totals.parquet",
    ]
    body = s3_server.client().get_object(Bucket=bucket, Key="lake/totals.parquet")["Body"]
    totals = pl.read_parquet(io.BytesIO(body.read()))
    assert totals.to_dicts() == [{"region": "eu", "amount": 40}, {"region": "us", "amount": 40}]
    body = s3_server.client().get_object(Bucket=bucket, Key="lake/orders/us.parquet")["Body"]
    assert pd.read_parquet(io.BytesIO(body.read()))["amount"].dtype == "Int64"

    with Instance.for_home(project / ".bakehouse") as instance:
        latest = instance.get_materialization_history("totals", limit=1)[0]
        orders = instance.get_materialization_history("orders", partition_key="us", limit=1)[0]
    metadata = latest.data["metadata"]
    assert metadata["dagster/row_count"] == {"type": "int", "value": 2}
    assert metadata["dagster/column_schema"]["type"] == "table_schema"
    assert [c["name"] for c in metadata["dagster/column_schema"]["value"]["columns"]] == [
        "region",
        "amount",
    ]
    assert metadata["preview"]["type"] == "table"
    assert metadata["preview"]["value"]["records"] == [
        {"region": "eu", "amount": 40},
        {"region": "us", "amount": 40},
    ]
    assert metadata["path"] == {"type": "path", "value": f"s3://{bucket}/lake/totals.parquet"}
    assert orders.data["metadata"]["dagster/partition_row_count"] == {"type": "int", "value": 3}

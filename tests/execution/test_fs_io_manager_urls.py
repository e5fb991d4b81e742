"""The filesystem IO manager under fsspec URLs: ``s3://`` (moto's server), ``memory://``,
``file://``, with the same keys and partition layout as under a local folder."""

from __future__ import annotations

import pickle
import uuid
from pathlib import Path
from typing import Any

import pytest

import bakehouse as dg
from bakehouse.execution.fs_io_manager import FilesystemIOManager
from bakehouse.execution.io_managers import InputContext, MissingValueError, OutputContext
from bakehouse.graph.keys import AssetKey
from tests.support.s3 import S3Server

KEY = AssetKey(["raw", "orders"])
REGIONS = dg.StaticPartitionsDefinition(["us", "eu"])


def output_context(partition: str | None = None) -> OutputContext:
    return OutputContext(asset_key=KEY, step_key="step", run_id="run", partition_key=partition)


def input_context(partition: str | None = None) -> InputContext:
    return InputContext(
        asset_key=KEY,
        name="orders",
        upstream_output=output_context(partition),
        partition_key=partition,
    )


def test_an_s3_base_dir_stores_each_value_as_an_object_under_the_key_parts(
    s3_server: S3Server,
) -> None:
    bucket = s3_server.new_bucket()
    manager = FilesystemIOManager(
        base_dir=f"s3://{bucket}/runs", storage_options=s3_server.storage_options()
    )
    context = output_context()

    manager.handle_output(context, {"rows": [1, 2]})

    assert s3_server.keys(bucket) == ["runs/raw/orders"]
    body = s3_server.client().get_object(Bucket=bucket, Key="runs/raw/orders")["Body"].read()
    assert pickle.loads(body) == {"rows": [1, 2]}
    assert context.added_metadata["path"] == dg.MetadataValue.path(f"s3://{bucket}/runs/raw/orders")
    assert manager.load_input(input_context()) == {"rows": [1, 2]}


def test_an_s3_base_dir_keeps_the_partition_layout(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    manager = FilesystemIOManager(f"s3://{bucket}/runs", s3_server.storage_options())

    manager.handle_output(output_context("2024-01-01"), 1)
    manager.handle_output(output_context("2024-01-02|us"), 2)

    assert s3_server.keys(bucket) == ["runs/raw/orders/2024-01-01", "runs/raw/orders/2024-01-02/us"]
    assert manager.load_input(input_context("2024-01-02|us")) == 2


def test_a_missing_s3_object_names_its_url(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    manager = FilesystemIOManager(f"s3://{bucket}/runs", s3_server.storage_options())
    with pytest.raises(MissingValueError, match=rf"expected at s3://{bucket}/runs/raw/orders\)"):
        manager.load_input(input_context())


def test_a_memory_url_round_trips_without_any_server() -> None:
    manager = FilesystemIOManager(f"memory://bakehouse-{uuid.uuid4().hex}")
    manager.handle_output(output_context("us"), ["a"])
    assert manager.load_input(input_context("us")) == ["a"]


def test_a_file_url_is_the_local_folder_it_names(tmp_path: Path) -> None:
    manager = FilesystemIOManager(tmp_path.as_uri())
    manager.handle_output(output_context(), 5)
    assert pickle.loads((tmp_path / "raw" / "orders").read_bytes()) == 5


def test_an_unknown_scheme_fails_naming_the_url() -> None:
    with pytest.raises(RuntimeError, match=r"cannot store values under 'nosuchfs://x'"):
        FilesystemIOManager("nosuchfs://x")


seen: dict[str, Any] = {}


@dg.asset(partitions_def=REGIONS, key_prefix="raw")
def orders(context: dg.AssetExecutionContext) -> list[str]:
    return [f"order from {context.partition_key}"]


@dg.asset(ins={"orders": dg.AssetIn(key="raw/orders")})
def all_orders(orders: dict[str, list[str]]) -> int:
    seen["orders"] = orders
    return sum(len(v) for v in orders.values())


def test_a_run_stores_partitions_in_s3_and_reads_them_back_as_a_dict(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    resources = {
        "io_manager": FilesystemIOManager(f"s3://{bucket}/lake", s3_server.storage_options())
    }
    for region in ("us", "eu"):
        assert dg.materialize([orders], partition_key=region, resources=resources).success

    result = dg.materialize([orders, all_orders], selection=["all_orders"], resources=resources)

    assert result.success
    assert seen["orders"] == {"us": ["order from us"], "eu": ["order from eu"]}
    assert s3_server.keys(bucket) == ["lake/all_orders", "lake/raw/orders/eu", "lake/raw/orders/us"]

"""bakehouse_aws.s3 against moto's S3 server: the resource, the pickle IO manager in its two
spellings, partitions, and the error for a value never stored."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

import bakehouse as dg
from bakehouse.execution.io_managers import MissingValueError
from bakehouse_aws.s3 import S3PickleIOManager, S3Resource, s3_pickle_io_manager, s3_resource
from tests.support.s3 import ACCESS_KEY, REGION, SECRET_KEY, S3Server

DAILY = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-04")
seen: dict[str, Any] = {}


def s3(server: S3Server) -> S3Resource:
    return S3Resource(
        endpoint_url=server.endpoint_url,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )


@dg.asset
def dough() -> dict[str, int]:
    return {"flour": 500}


@dg.asset
def bread(dough: dict[str, int]) -> int:
    return dough["flour"] // 100


@dg.asset(partitions_def=DAILY)
def bakes(context: dg.AssetExecutionContext) -> str:
    return f"bake of {context.partition_key}"


@dg.asset
def week(bakes: dict[str, str]) -> int:
    seen["bakes"] = bakes
    return len(bakes)


def test_the_resource_hands_out_a_client_of_the_configured_endpoint(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()

    @dg.asset
    def upload(s3: S3Resource) -> None:
        s3.get_client().put_object(Bucket=bucket, Key="path/to/file.csv", Body=b"a,b\n")

    assert dg.materialize([upload], resources={"s3": s3(s3_server)}).success
    assert s3_server.keys(bucket) == ["path/to/file.csv"]


def test_the_pickle_io_manager_stores_assets_under_the_prefix(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    manager = S3PickleIOManager(s3_resource=s3(s3_server), s3_bucket=bucket, s3_prefix="runs")

    result = dg.materialize([dough, bread], resources={"io_manager": manager})

    assert result.success
    assert s3_server.keys(bucket) == ["runs/bread", "runs/dough"]
    body = s3_server.client().get_object(Bucket=bucket, Key="runs/bread")["Body"].read()
    assert pickle.loads(body) == 5
    assert result.metadata_for("bread")["uri"] == {
        "type": "path",
        "value": f"s3://{bucket}/runs/bread",
    }


def test_the_default_prefix_is_dagsters(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    manager = S3PickleIOManager(s3_resource=s3(s3_server), s3_bucket=bucket)
    assert dg.materialize([dough], resources={"io_manager": manager}).success
    assert s3_server.keys(bucket) == ["dagster/dough"]


def test_partitions_are_objects_and_a_wider_partition_reads_them_as_a_dict(
    s3_server: S3Server,
) -> None:
    bucket = s3_server.new_bucket()
    resources = {"io_manager": S3PickleIOManager(s3_resource=s3(s3_server), s3_bucket=bucket)}
    for day in ("2024-01-01", "2024-01-02", "2024-01-03"):
        assert dg.materialize([bakes], partition_key=day, resources=resources).success

    assert s3_server.keys(bucket) == [
        "dagster/bakes/2024-01-01",
        "dagster/bakes/2024-01-02",
        "dagster/bakes/2024-01-03",
    ]
    result = dg.materialize([bakes, week], selection=["week"], resources=resources)
    assert result.success
    assert seen["bakes"] == {
        "2024-01-01": "bake of 2024-01-01",
        "2024-01-02": "bake of 2024-01-02",
        "2024-01-03": "bake of 2024-01-03",
    }


def test_a_partition_never_stored_is_named(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    resources = {"io_manager": S3PickleIOManager(s3_resource=s3(s3_server), s3_bucket=bucket)}
    assert dg.materialize([bakes], partition_key="2024-01-01", resources=resources).success
    with pytest.raises(MissingValueError, match="partition '2024-01-02' of asset 'bakes'"):
        dg.materialize([bakes, week], selection=["week"], resources=resources)


def test_the_function_style_spelling_uses_the_s3_resources_client(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    resources = {
        "io_manager": s3_pickle_io_manager.configured({"s3_bucket": bucket, "s3_prefix": "old"}),
        "s3": s3_resource.configured(
            {
                "endpoint_url": s3_server.endpoint_url,
                "region_name": REGION,
                "aws_access_key_id": ACCESS_KEY,
                "aws_secret_access_key": SECRET_KEY,
            }
        ),
    }

    result = dg.materialize([dough, bread], resources=resources)

    assert result.success
    assert result.asset_value("bread") == 5
    assert s3_server.keys(bucket) == ["old/bread", "old/dough"]


def test_the_function_style_spelling_needs_a_bucket(s3_server: S3Server) -> None:
    resources = {"io_manager": s3_pickle_io_manager, "s3": s3(s3_server)}
    with pytest.raises(Exception, match="config needs s3_bucket"):
        dg.materialize([dough], resources=resources)


def test_an_asset_never_stored_names_its_object(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    manager = S3PickleIOManager(s3_resource=s3(s3_server), s3_bucket=bucket)
    with pytest.raises(
        MissingValueError, match=rf"asset 'dough' \(expected at s3://{bucket}/dagster/dough\)"
    ):
        dg.materialize([dough, bread], selection=["bread"], resources={"io_manager": manager})

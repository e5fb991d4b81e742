"""File-based IO managers as Dagster's docs write them, run unchanged but for the imports
(``dagster`` -> ``bakehouse``, ``dagster_polars`` -> ``bakehouse_polars``,
``dagster_aws`` -> ``bakehouse_aws``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
from upath import UPath

import bakehouse as dg
from bakehouse_aws.s3 import S3PickleIOManager, S3Resource
from bakehouse_polars import PolarsParquetIOManager
from tests.support.s3 import ACCESS_KEY, REGION, SECRET_KEY, S3Server

seen: dict[str, Any] = {}


# The docs' own Parquet IO manager: a UPathIOManager subclass and a factory giving its folder.
class PandasParquetIOManager(dg.UPathIOManager):
    extension: str = ".parquet"

    def dump_to_path(self, context: dg.OutputContext, obj: pd.DataFrame, path: UPath) -> None:
        with path.open("wb") as file:
            obj.to_parquet(file)

    def load_from_path(self, context: dg.InputContext, path: UPath) -> pd.DataFrame:
        with path.open("rb") as file:
            return pd.read_parquet(file)


class LocalPandasParquetIOManager(dg.ConfigurableIOManagerFactory):
    base_path: str | None = None

    def create_io_manager(self, context: dg.InitResourceContext) -> PandasParquetIOManager:
        base_path = UPath(self.base_path or context.instance.storage_directory())
        return PandasParquetIOManager(base_path=base_path)


@dg.asset(partitions_def=dg.StaticPartitionsDefinition(["a", "b"]))
def letters(context: dg.AssetExecutionContext) -> pd.DataFrame:
    return pd.DataFrame({"letter": [context.partition_key] * 2})


@dg.asset
def counted(letters: dict[str, pd.DataFrame]) -> None:
    seen["counted"] = {k: len(v) for k, v in letters.items()}


def test_the_docs_upath_io_manager_stores_each_partition_as_a_file(tmp_path: Path) -> None:
    resources = {"io_manager": LocalPandasParquetIOManager(base_path=str(tmp_path))}
    for key in ("a", "b"):
        assert dg.materialize([letters], partition_key=key, resources=resources).success
    assert dg.materialize([letters, counted], selection=["counted"], resources=resources).success

    assert sorted(p.name for p in (tmp_path / "letters").iterdir()) == ["a.parquet", "b.parquet"]
    assert seen["counted"] == {"a": 2, "b": 2}


def test_the_docs_factory_falls_back_to_the_instance_storage_directory() -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        resources = {"io_manager": LocalPandasParquetIOManager()}
        assert dg.materialize([letters], partition_key="a", resources=resources, instance=instance)
        folder = Path(instance.storage_directory())
        assert (folder / "letters" / "a.parquet").is_file()


@dg.asset(io_manager_key="polars_parquet_io_manager")
def upstream() -> pl.DataFrame:
    return pl.DataFrame({"foo": [1, 2, 3]})


@dg.asset(io_manager_key="polars_parquet_io_manager")
def downstream(upstream: pl.DataFrame) -> pl.LazyFrame:
    assert isinstance(upstream, pl.DataFrame)
    return upstream.lazy()


def test_dagster_polars_quickstart(tmp_path: Path) -> None:
    defs = dg.Definitions(
        assets=[upstream, downstream],
        resources={"polars_parquet_io_manager": PolarsParquetIOManager(base_dir=str(tmp_path))},
    )
    result = dg.materialize(
        [upstream, downstream], resources=defs.resources, selection=["upstream", "downstream"]
    )
    assert result.success
    assert pl.read_parquet(tmp_path / "downstream.parquet")["foo"].to_list() == [1, 2, 3]


@dg.asset
def pickled() -> list[int]:
    return [1, 2]


def test_dagster_aws_s3_pickle_io_manager_as_its_docs_configure_it(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    defs = dg.Definitions(
        assets=[pickled],
        resources={
            "io_manager": S3PickleIOManager(
                s3_resource=S3Resource(
                    endpoint_url=s3_server.endpoint_url,
                    region_name=REGION,
                    aws_access_key_id=ACCESS_KEY,
                    aws_secret_access_key=SECRET_KEY,
                ),
                s3_bucket=bucket,
                s3_prefix="my-prefix",
            ),
        },
    )
    assert dg.materialize([pickled], resources=defs.resources).success
    assert s3_server.keys(bucket) == ["my-prefix/pickled"]

"""`PolarsParquetIOManager`: each polars DataFrame (or LazyFrame, collected) an asset returns
is a Parquet file, one per partition, under a folder or fsspec URL, read back as a DataFrame."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from upath import UPath

from bakehouse.execution.configurable_upath_io_manager import ConfigurableUPathIOManager
from bakehouse.execution.io_managers import InputContext, OutputContext
from bakehouse.execution.upath_io_manager import UPathIOManager
from bakehouse_polars.metadata import polars_frame_metadata


class PolarsParquetUPathIOManager(UPathIOManager):
    """The plain (not configurable) form: ``PolarsParquetUPathIOManager(base_path=...)``."""

    extension = ".parquet"

    def prepare_for_storage(self, context: OutputContext, obj: Any) -> Any:
        """The DataFrame to write: a LazyFrame is collected, once."""
        return _eager(context, obj)

    def dump_to_path(self, context: OutputContext, obj: Any, path: UPath) -> None:
        """Write the DataFrame as Parquet."""
        with path.open("wb") as fh:
            _eager(context, obj).write_parquet(fh)

    def load_from_path(self, context: InputContext, path: UPath) -> Any:
        """Read the Parquet file (only the input's ``columns`` metadata, when it names some)."""
        import polars

        columns = context.definition_metadata.get("columns")
        with path.open("rb") as fh:
            return polars.read_parquet(fh, columns=list(columns) if columns else None)

    def get_metadata(self, context: OutputContext, obj: Any) -> Mapping[str, Any]:
        """Row count, column schema and a preview."""
        return polars_frame_metadata(_eager(context, obj), partitioned=context.has_asset_partitions)


def _eager(context: OutputContext, obj: Any) -> Any:
    import polars

    if isinstance(obj, polars.LazyFrame):
        return obj.collect()
    if not isinstance(obj, polars.DataFrame):
        raise TypeError(
            f"asset '{context.asset_key.to_user_string()}' returned a {type(obj).__name__}; "
            "PolarsParquetIOManager stores polars DataFrames and LazyFrames"
        )
    return obj


class PolarsParquetIOManager(ConfigurableUPathIOManager):
    """Stores polars DataFrames as Parquet: ``PolarsParquetIOManager(base_dir="s3://b/lake")``.

    Partitioned assets get one file per partition; an input over several partitions is a
    ``{partition_key: DataFrame}`` dict, over one the DataFrame itself.
    """

    def files(self, base_dir: str | os.PathLike[str]) -> UPathIOManager:
        """The Parquet files under `base_dir`."""
        return PolarsParquetUPathIOManager(base_dir, self.storage_options)

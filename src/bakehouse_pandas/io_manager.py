"""`PandasParquetIOManager`: each pandas DataFrame an asset returns is a Parquet file, one per
partition, under a folder or fsspec URL; dtypes survive the round trip (pandas keeps them in the
file's metadata: datetimes with their zone, categoricals, nullable integers, strings)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from upath import UPath

from bakehouse.execution.configurable_upath_io_manager import ConfigurableUPathIOManager
from bakehouse.execution.io_managers import InputContext, OutputContext
from bakehouse.execution.upath_io_manager import UPathIOManager
from bakehouse_pandas.metadata import pandas_frame_metadata


class PandasParquetUPathIOManager(UPathIOManager):
    """The plain (not configurable) form: ``PandasParquetUPathIOManager(base_path=...)``."""

    extension = ".parquet"

    def dump_to_path(self, context: OutputContext, obj: Any, path: UPath) -> None:
        """Write the DataFrame as Parquet."""
        import pandas

        if not isinstance(obj, pandas.DataFrame):
            raise TypeError(
                f"asset '{context.asset_key.to_user_string()}' returned a "
                f"{type(obj).__name__}; {type(self).__name__} stores pandas DataFrames"
            )
        with path.open("wb") as fh:
            obj.to_parquet(fh)

    def load_from_path(self, context: InputContext, path: UPath) -> Any:
        """Read the Parquet file (only the input's ``columns`` metadata, when it names some)."""
        import pandas

        columns = context.definition_metadata.get("columns")
        with path.open("rb") as fh:
            return pandas.read_parquet(fh, columns=list(columns) if columns else None)

    def get_metadata(self, context: OutputContext, obj: Any) -> Mapping[str, Any]:
        """Row count, column schema and a preview."""
        return pandas_frame_metadata(obj, partitioned=context.has_asset_partitions)


class PandasParquetIOManager(ConfigurableUPathIOManager):
    """Stores pandas DataFrames as Parquet: ``PandasParquetIOManager(base_dir="s3://b/lake")``.

    Partitioned assets get one file per partition; an input over several partitions is a
    ``{partition_key: DataFrame}`` dict, over one the DataFrame itself.
    """

    def files(self, base_dir: str | os.PathLike[str]) -> UPathIOManager:
        """The Parquet files under `base_dir`."""
        return PandasParquetUPathIOManager(base_dir, self.storage_options)

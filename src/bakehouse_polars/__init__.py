"""polars DataFrames stored as Parquet files, locally or under any fsspec URL, under the names
of Dagster's ``dagster_polars`` (``pip install 'bakehouse[polars]'``)."""

from bakehouse_polars.io_manager import (
    PolarsParquetIOManager as PolarsParquetIOManager,
    PolarsParquetUPathIOManager as PolarsParquetUPathIOManager,
)
from bakehouse_polars.metadata import polars_frame_metadata as polars_frame_metadata

__all__ = ["PolarsParquetIOManager", "PolarsParquetUPathIOManager", "polars_frame_metadata"]

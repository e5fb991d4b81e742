"""pandas DataFrames stored as Parquet files, locally or under any fsspec URL (``pip install
'bakehouse[pandas]'``).

Dagster has no pandas Parquet IO manager of its own; its docs write one on ``UPathIOManager``
and call it ``PandasParquetIOManager``. bakehouse ships it under that name, configured as
``dagster_polars.PolarsParquetIOManager`` is (``base_dir``, ``storage_options``).
"""

from bakehouse_pandas.io_manager import (
    PandasParquetIOManager as PandasParquetIOManager,
    PandasParquetUPathIOManager as PandasParquetUPathIOManager,
)
from bakehouse_pandas.metadata import pandas_frame_metadata as pandas_frame_metadata

__all__ = ["PandasParquetIOManager", "PandasParquetUPathIOManager", "pandas_frame_metadata"]

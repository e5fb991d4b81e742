"""`PolarsParquetIOManager`: each polars DataFrame (or LazyFrame, collected) an asset returns
is a Parquet file, one per partition, under a folder or fsspec URL, read back as a DataFrame
(a LazyFrame for a parameter annotated so; None for a missing one annotated Optional)."""

from __future__ import annotations

import os
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from upath import UPath

from bakehouse.execution.configurable_upath_io_manager import ConfigurableUPathIOManager
from bakehouse.execution.io_managers import InputContext, MissingValueError, OutputContext
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
        """Read the Parquet file (only the input's ``columns`` metadata, when it names some):
        a DataFrame, or a LazyFrame when the parameter is annotated ``pl.LazyFrame`` (also
        inside ``Optional[...]`` or ``dict[str, ...]``)."""
        import polars

        columns = context.definition_metadata.get("columns")
        wanted = list(columns) if columns else None
        lazy = _frame_type(context.dagster_type.typing_type) is polars.LazyFrame
        if lazy and isinstance(path, Path):
            # A local file is scanned: the query reads only what it needs.
            frame = polars.scan_parquet(str(path))
            return frame.select(wanted) if wanted else frame
        with path.open("rb") as fh:
            eager = polars.read_parquet(fh, columns=wanted)
        return eager.lazy() if lazy else eager

    def load_input(self, context: InputContext) -> Any:
        """The upstream frame(s); None for a missing one when the parameter is ``Optional``, as
        dagster_polars does."""
        try:
            return super().load_input(context)
        except MissingValueError:
            if _is_optional(context.dagster_type.typing_type):
                context.log.info(
                    f"no stored value for '{context.asset_key.to_user_string()}': the input "
                    f"'{context.name}' is Optional, so it is None"
                )
                return None
            raise

    def get_metadata(self, context: OutputContext, obj: Any) -> Mapping[str, Any]:
        """Row count, column schema and a preview."""
        return polars_frame_metadata(_eager(context, obj), partitioned=context.has_asset_partitions)


def _is_optional(annotation: Any) -> bool:
    args = typing.get_args(annotation)
    return type(None) in args and typing.get_origin(annotation) in (typing.Union, types.UnionType)


def _frame_type(annotation: Any) -> Any:
    """The frame class an annotation asks for: ``X`` of ``X``, ``Optional[X]``,
    ``dict[str, X]``."""
    if _is_optional(annotation):
        rest = [a for a in typing.get_args(annotation) if a is not type(None)]
        annotation = rest[0] if len(rest) == 1 else annotation
    if typing.get_origin(annotation) in (dict, Mapping):
        args = typing.get_args(annotation)
        annotation = args[1] if len(args) == 2 else annotation
    return annotation


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

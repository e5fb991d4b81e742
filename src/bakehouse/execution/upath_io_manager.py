"""`UPathIOManager`: the base of IO managers that keep one file per asset (or partition) under
a base path, on the local disk or any fsspec file system (``s3://``, ``gs://``, ``memory://``).

The layout is ``<base>/<key parts>[/<partition>]<extension>``; a multi-partition key
``2024-01-01|us`` is the folders ``2024-01-01/us``. Subclasses say how one value is written to
and read from a path (`dump_to_path`, `load_from_path`) and may add metadata (`get_metadata`);
storing each partition of a range, loading several partitions as a dict and the missing-value
error are done here once.
"""

from __future__ import annotations

import os
import uuid
from abc import abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from upath import UPath

from bakehouse.authoring.metadata import MetadataValue, metadata_values
from bakehouse.authoring.table_metadata import merge_partition_metadata
from bakehouse.execution.io_managers import (
    InputContext,
    IOManager,
    MissingValueError,
    OutputContext,
    load_partitions,
    missing_value,
    store_partitions,
)
from bakehouse.graph.keys import AssetKey


def is_url(base_dir: str) -> bool:
    """True when `base_dir` names an fsspec file system (``s3://...``) rather than a path."""
    scheme, sep, _ = base_dir.partition("://")
    # A Windows drive ("C:\\...") has no "//"; "file://" is a URL to a local path.
    return bool(sep) and scheme.replace("+", "").replace("-", "").isalnum()


def storage_path(
    base_dir: str | os.PathLike[str] | UPath, storage_options: Mapping[str, Any] | None = None
) -> UPath:
    """`base_dir` as a path to write under: a local UPath (a `pathlib.Path` too) for the local
    disk, ``file://`` URLs included; an fsspec UPath for any other URL, given `storage_options`
    (credentials, ``endpoint_url``, ...) for its file system."""
    if isinstance(base_dir, UPath):
        return base_dir  # keeps its own file system and options
    text = os.fspath(base_dir)
    if not is_url(text):
        return UPath(text)
    if text.startswith("file://"):
        from urllib.parse import unquote, urlparse

        return UPath(unquote(urlparse(text).path))
    try:
        path: UPath = UPath(text, **dict(storage_options or {}))
    except (ImportError, ValueError) as exc:
        # fsspec names the package a scheme needs (s3fs for s3://, gcsfs for gs://).
        raise RuntimeError(f"cannot store values under {text!r}: {exc}") from exc
    return path


class UPathIOManager(IOManager):
    """Stores each asset value as one file under `base_path`, locally or in object storage.

    Every path handed to `dump_to_path` / `load_from_path` is a `UPath`, as in Dagster: a local
    one is also a `pathlib.Path`, any other an fsspec path; both open with ``path.open("wb")``.

    Subclass it, set `extension` (``".parquet"``) and implement `dump_to_path` and
    `load_from_path`; override `get_metadata` to attach metadata about the value stored.
    Writes to the local disk are atomic (a temporary file renamed into place); an object store
    replaces an object whole on its own.
    """

    extension: str = ""

    def __init__(
        self,
        base_path: str | os.PathLike[str] | UPath | None = None,
        storage_options: Mapping[str, Any] | None = None,
    ) -> None:
        self._base_path = (
            storage_path(base_path, storage_options) if base_path is not None else None
        )

    @property
    def base_path(self) -> UPath:
        """Where values are stored."""
        if self._base_path is None:
            raise RuntimeError(f"{type(self).__name__} needs a base_dir")
        return self._base_path

    @abstractmethod
    def dump_to_path(self, context: OutputContext, obj: Any, path: UPath) -> None:
        """Write `obj` to the file `path`."""

    @abstractmethod
    def load_from_path(self, context: InputContext, path: UPath) -> Any:
        """Read the value stored in the file `path`."""

    def get_metadata(self, context: OutputContext, obj: Any) -> Mapping[str, Any]:
        """Metadata about `obj` attached to its materialization (none by default)."""
        return {}

    def prepare_for_storage(self, context: OutputContext, obj: Any) -> Any:
        """The value to write and describe, made once per value (e.g. a lazy frame collected);
        `obj` itself by default."""
        return obj

    def path_for(self, key: AssetKey, partition_key: str | None = None) -> UPath:
        """The file of asset `key` (or of one of its partitions)."""
        path = self.base_path.joinpath(*key.path)
        if partition_key is not None:
            # A multi-partition key "2024-01-01|us" is stored as 2024-01-01/us, as Dagster does.
            parts = partition_key.split("|")
            if any(p in ("", ".", "..") or "/" in p or "\\" in p for p in parts):
                raise ValueError(f"partition key {partition_key!r} cannot name a file")
            path = path.joinpath(*parts)
        if self.extension:
            path = path.with_name(path.name + self.extension)
        return path

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        """Write `obj` to its file; over several partitions `obj` is a dict by partition key
        and each value gets its partition's file."""
        written: list[UPath] = []
        described: list[dict[str, MetadataValue]] = []

        def store_one(partition: str | None, value: Any) -> None:
            path = self.path_for(context.asset_key, partition)
            value = self.prepare_for_storage(context, value)
            self._write(context, value, path)
            written.append(path)
            described.append(metadata_values(self.get_metadata(context, value)))

        store_partitions(context, obj, store_one)
        metadata = merge_partition_metadata(described)
        # Several partitions share one materialization's metadata: name their folder.
        shown = (
            written[0] if len(written) == 1 else self.base_path.joinpath(*context.asset_key.path)
        )
        context.add_output_metadata(
            {**metadata, "path": MetadataValue.path(_path_text(shown))} if written else metadata
        )

    def load_input(self, context: InputContext) -> Any:
        """Read the upstream value (a dict by partition key for several partitions)."""

        def load_one(partition: str | None) -> Any:
            path = self.path_for(context.asset_key, partition)
            try:
                return self.load_from_path(context, path)
            except FileNotFoundError:
                where = f"expected at {_path_text(path)}"
                raise missing_value(context.asset_key, where, partition) from None

        return load_partitions(context, load_one)

    def _write(self, context: OutputContext, obj: Any, path: UPath) -> None:
        if not isinstance(path, Path):
            # An object store has no folders to make and no rename to lean on: a PUT replaces
            # the object whole. Other fsspec file systems (sftp, memory) need the parent.
            path.parent.mkdir(parents=True, exist_ok=True)
            self.dump_to_path(context, obj, path)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        # Readers never see half a file: write beside it, then rename over it.
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        try:
            self.dump_to_path(context, obj, tmp)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


def _path_text(path: UPath) -> str:
    """A path as people read it: ``s3://bucket/key`` for a UPath, the local path otherwise."""
    return str(path)


__all__ = ["MissingValueError", "UPathIOManager", "is_url", "storage_path"]

"""`FilesystemIOManager`: the default IO manager, pickling each value to a file under a folder
or any fsspec URL (``s3://bucket/runs``, ``gs://...``, ``file://...``)."""

from __future__ import annotations

import os
import pickle
from collections.abc import Mapping
from typing import Any

from upath import UPath

from bakehouse.execution.io_managers import InputContext, OutputContext
from bakehouse.execution.upath_io_manager import UPathIOManager


class FilesystemIOManager(UPathIOManager):
    """Pickles each value to ``<base_dir>/<key parts>`` (plus ``/<partition>`` when partitioned).

    `base_dir` is a local folder or an fsspec URL, `storage_options` the file system's options
    (e.g. ``{"endpoint_url": ..., "key": ..., "secret": ...}`` for ``s3://``). Runs without an
    ``io_manager`` resource use one whose `base_dir` is the instance's storage folder.
    """

    def __init__(
        self,
        base_dir: str | os.PathLike[str] | None = None,
        storage_options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(base_dir, storage_options)
        self.base_dir = self._base_path

    def dump_to_path(self, context: OutputContext, obj: Any, path: UPath) -> None:
        """Pickle `obj` into `path`."""
        with path.open("wb") as fh:
            pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)

    def load_from_path(self, context: InputContext, path: UPath) -> Any:
        """Unpickle the value in `path`."""
        with path.open("rb") as fh:
            return pickle.load(fh)

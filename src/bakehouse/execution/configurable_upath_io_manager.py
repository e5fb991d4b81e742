"""`ConfigurableUPathIOManager`: a `UPathIOManager` configured like a resource (``base_dir``,
``storage_options``), whose folder defaults to the instance's storage folder, as Dagster's
file-based DataFrame IO managers do."""

from __future__ import annotations

import os
from abc import abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import Field, PrivateAttr

from bakehouse.authoring.context import InitResourceContext
from bakehouse.execution.configurable_io_manager import ConfigurableIOManager
from bakehouse.execution.io_managers import InputContext, OutputContext
from bakehouse.execution.upath_io_manager import UPathIOManager


class ConfigurableUPathIOManager(ConfigurableIOManager):
    """Subclass it and implement `files` to return the `UPathIOManager` doing the work."""

    base_dir: str | None = Field(
        default=None,
        description="Folder or fsspec URL (s3://bucket/path) to store under; default: the "
        "instance's storage folder.",
    )
    storage_options: dict[str, Any] = Field(
        default_factory=dict,
        description="Options of the URL's fsspec file system (credentials, endpoint_url, ...).",
    )

    _files: UPathIOManager | None = PrivateAttr(default=None)

    @abstractmethod
    def files(self, base_dir: str | os.PathLike[str]) -> UPathIOManager:
        """The IO manager storing values under `base_dir` with these settings."""

    @contextmanager
    def yield_for_execution(self, context: InitResourceContext) -> Iterator[Any]:
        """Resolve the folder for this run (the instance's storage folder when unset)."""
        base_dir: str | os.PathLike[str] | None = self.base_dir
        if base_dir is None:
            storage = getattr(context.instance, "storage", None)
            base_dir = getattr(storage, "storage_dir", None)
        if base_dir is None:
            raise ValueError(
                f"{type(self).__name__} (resource '{context.resource_key}') needs a base_dir: "
                "this run has no instance whose storage folder it could use"
            )
        self._files = self.files(base_dir)
        yield self

    def _manager(self) -> UPathIOManager:
        if self._files is None:
            # Called outside a run (a test calling handle_output itself): base_dir must be set.
            if self.base_dir is None:
                raise ValueError(f"{type(self).__name__} needs a base_dir outside a run")
            self._files = self.files(self.base_dir)
        return self._files

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        """Store `obj` as the file manager does."""
        self._manager().handle_output(context, obj)

    def load_input(self, context: InputContext) -> Any:
        """Load the upstream value as the file manager does."""
        return self._manager().load_input(context)

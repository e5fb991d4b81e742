"""IO managers: how an asset's value is stored after its step and loaded by downstream steps."""

from __future__ import annotations

import os
import pickle
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bakehouse.authoring.context import RunLogger
from bakehouse.authoring.metadata import MetadataValue
from bakehouse.graph.keys import AssetKey


class OutputContext:
    """What `IOManager.handle_output` receives about the value it stores."""

    def __init__(
        self,
        *,
        asset_key: AssetKey,
        step_key: str,
        run_id: str,
        name: str = "result",
        definition_metadata: Mapping[str, Any] | None = None,
        partition_key: str | None = None,
        log: RunLogger | None = None,
    ) -> None:
        self.asset_key = asset_key
        self.step_key = step_key
        self.run_id = run_id
        self.name = name
        self.definition_metadata = dict(definition_metadata or {})
        self.partition_key = partition_key
        self.has_partition_key = partition_key is not None
        self.log = log or RunLogger()
        self.added_metadata: dict[str, Any] = {}

    def add_output_metadata(self, metadata: Mapping[str, Any]) -> None:
        """Record metadata (e.g. the path written) on the materialization."""
        self.added_metadata.update(metadata)


class InputContext:
    """What `IOManager.load_input` receives about the value it loads."""

    def __init__(
        self,
        *,
        asset_key: AssetKey,
        name: str,
        upstream_output: OutputContext,
        partition_key: str | None = None,
        log: RunLogger | None = None,
    ) -> None:
        self.asset_key = asset_key
        self.name = name
        self.upstream_output = upstream_output
        self.partition_key = partition_key
        self.has_partition_key = partition_key is not None
        self.log = log or RunLogger()


class IOManager(ABC):
    """Stores asset values and loads them for downstream assets."""

    @abstractmethod
    def handle_output(self, context: OutputContext, obj: Any) -> None:
        """Store `obj`, the value of `context.asset_key`."""

    @abstractmethod
    def load_input(self, context: InputContext) -> Any:
        """Load the value of the upstream asset `context.asset_key`."""


class MissingValueError(LookupError):
    """Raised when an input's upstream asset has no stored value."""


def _missing(key: AssetKey, where: str) -> MissingValueError:
    return MissingValueError(
        f"no stored value for asset '{key.to_user_string()}' ({where}). Materialize it first; if "
        "its function returns nothing and you only need ordering, use deps=[...] instead of a "
        "parameter"
    )


class FilesystemIOManager(IOManager):
    """Pickles each value to ``<base_dir>/<key parts>`` (plus ``/<partition>`` when partitioned).

    The default IO manager, with `base_dir` the instance's storage folder.
    """

    def __init__(self, base_dir: str | os.PathLike[str] | None = None) -> None:
        self.base_dir = Path(base_dir) if base_dir is not None else None

    def _path(self, key: AssetKey, partition_key: str | None) -> Path:
        if self.base_dir is None:
            raise RuntimeError("FilesystemIOManager needs a base_dir")
        path = self.base_dir.joinpath(*key.path)
        return path / partition_key if partition_key is not None else path

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        """Pickle `obj` atomically (write to a temp file, then rename)."""
        path = self._path(context.asset_key, context.partition_key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        context.add_output_metadata({"path": MetadataValue.path(path)})

    def load_input(self, context: InputContext) -> Any:
        """Unpickle the upstream value."""
        path = self._path(context.asset_key, context.partition_key)
        try:
            with path.open("rb") as fh:
                return pickle.load(fh)
        except FileNotFoundError:
            raise _missing(context.asset_key, f"expected at {path}") from None


class InMemoryIOManager(IOManager):
    """Keeps values in a dict in this process: for tests and `materialize_to_memory`."""

    def __init__(self) -> None:
        self.values: dict[tuple[AssetKey, str | None], Any] = {}

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        """Keep `obj` in memory."""
        self.values[(context.asset_key, context.partition_key)] = obj

    def load_input(self, context: InputContext) -> Any:
        """Return the kept value."""
        try:
            return self.values[(context.asset_key, context.partition_key)]
        except KeyError:
            raise _missing(context.asset_key, "not in this in-memory IO manager") from None

"""The keys of dynamic partitions definitions, kept for an instance in one JSON file.

`DynamicPartitionKeys` is the interface the instance delegates to; `JsonFileDynamicPartitions`
keeps ``{definition name: [keys in the order added]}`` in ``_dynamic_partitions.json`` in the
instance's storage folder, rewritten atomically under an exclusive lock, so run workers, sensors
and the CLI of one machine share it. This is a stop-gap: a database table will implement the
same interface (and serve several machines) when partition status moves into storage.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

from bakehouse.errors import StorageError

FILE_NAME = "_dynamic_partitions.json"


class DynamicPartitionKeys(Protocol):
    """Adds, deletes and lists the keys of dynamic partitions definitions, by definition name."""

    def add(self, name: str, keys: Sequence[str]) -> None:
        """Add `keys` (those already there are left as they are), keeping the order of adding."""

    def delete(self, name: str, key: str) -> None:
        """Remove `key`; removing a key that is not there does nothing."""

    def get(self, name: str) -> list[str]:
        """The keys of `name`, in the order they were added."""

    def has(self, name: str, key: str) -> bool:
        """True if `key` was added to `name` and not deleted since."""


class JsonFileDynamicPartitions:
    """`DynamicPartitionKeys` in a JSON file (see the module doc)."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / FILE_NAME

    def _read(self) -> dict[str, list[str]]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise StorageError(f"{self.path} is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise StorageError(f"{self.path} does not hold a JSON object")
        return {str(k): [str(v) for v in keys] for k, keys in data.items()}

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_suffix(".lock")
        with open(lock_path, "a+b") as lock:
            try:
                import fcntl
            except ImportError:  # pragma: no cover - Windows: one writer at a time is assumed
                yield
                return
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def _write(self, data: dict[str, list[str]]) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=1, sort_keys=True)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def add(self, name: str, keys: Sequence[str]) -> None:
        """Add `keys` to `name`."""
        with self._locked():
            data = self._read()
            current = data.setdefault(name, [])
            present = set(current)
            for key in keys:
                if key not in present:
                    current.append(key)
                    present.add(key)
            self._write(data)

    def delete(self, name: str, key: str) -> None:
        """Remove `key` from `name`."""
        with self._locked():
            data = self._read()
            if key in data.get(name, []):
                data[name] = [k for k in data[name] if k != key]
                self._write(data)

    def get(self, name: str) -> list[str]:
        """The keys of `name`."""
        return list(self._read().get(name, []))

    def has(self, name: str, key: str) -> bool:
        """True if `name` has `key`."""
        return key in self._read().get(name, [])

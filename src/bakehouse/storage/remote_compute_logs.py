"""Compute logs in object storage, for steps that run on other hosts (Celery workers): the
worker uploads each step's captured files under an fsspec URL shared by the deployment, and the
web app and ``bh runs logs`` read them from there when this host's disk does not have them
(Dagster's ``S3ComputeLogManager`` keeps a local copy and uploads it the same way).

The URL is ``BAKEHOUSE_COMPUTE_LOGS_URL`` (``s3://bucket/compute-logs``, ``gs://...``,
``file:///shared/logs``), set for every process of the deployment; the store's own settings
(endpoint, credentials) come from fsspec's configuration (``FSSPEC_S3_ENDPOINT_URL``, ...) and
the cloud's usual environment. The layout under the URL is the local one:
``<url>/<run_id>/compute_logs/<step_key>.out``, ``.err`` and ``.complete``. Unset, compute logs
are local files only, as before.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Any

from bakehouse.storage.compute_logs import (
    COMPLETE_EXTENSION,
    COMPUTE_LOGS_FOLDER,
    MAX_BYTES_CHUNK_READ,
    ComputeIOType,
    LocalComputeLogManager,
    LogChunk,
    file_part,
)

ENV_COMPUTE_LOGS_URL = "BAKEHOUSE_COMPUTE_LOGS_URL"
ENV_UPLOAD_INTERVAL = "BAKEHOUSE_COMPUTE_LOGS_UPLOAD_INTERVAL"

_log = logging.getLogger(__name__)


class ObjectStoreComputeLogs:
    """The compute logs under one fsspec URL: uploads (workers) and reads by offset (host)."""

    def __init__(self, url: str) -> None:
        from fsspec.core import url_to_fs  # type: ignore[import-untyped]

        self.url = url
        fs, root = url_to_fs(url)
        self.fs: Any = fs
        self.root = str(root).rstrip("/")

    def _run_dir(self, run_id: str) -> str:
        return f"{self.root}/{file_part(run_id)}/{COMPUTE_LOGS_FOLDER}"

    def _path(self, run_id: str, step_key: str, extension: str) -> str:
        return f"{self._run_dir(run_id)}/{file_part(step_key)}{extension}"

    def upload(
        self, local: LocalComputeLogManager, run_id: str, step_key: str, *, complete: bool
    ) -> None:
        """Copy the step's captured files from `local` (whole: objects are not appendable);
        with `complete`, the ``.complete`` marker last, so a reader that sees it has the rest."""
        for io_type in ComputeIOType:
            source = local.log_path(run_id, step_key, io_type)
            if source.exists():
                self.fs.put_file(str(source), self._path(run_id, step_key, io_type.extension))
        if complete:
            self.fs.pipe_file(self._path(run_id, step_key, COMPLETE_EXTENSION), b"")

    def _exists(self, path: str) -> bool:
        self.fs.invalidate_cache(path)
        return bool(self.fs.exists(path))

    def is_capture_complete(self, run_id: str, step_key: str) -> bool:
        """True once the worker uploaded the step's whole capture."""
        return self._exists(self._path(run_id, step_key, COMPLETE_EXTENSION))

    def has_logs(self, run_id: str, step_key: str) -> bool:
        """True if any of the step's streams was uploaded."""
        return any(self._exists(self._path(run_id, step_key, t.extension)) for t in ComputeIOType)

    def get_log_data(
        self,
        run_id: str,
        step_key: str,
        io_type: ComputeIOType,
        offset: int = 0,
        max_bytes: int = MAX_BYTES_CHUNK_READ,
    ) -> LogChunk:
        """Up to `max_bytes` of the uploaded stream from byte `offset`, as a local read gives."""
        complete = self.is_capture_complete(run_id, step_key)
        path = self._path(run_id, step_key, io_type.extension)
        try:
            size = int(self.fs.info(path)["size"])
        except FileNotFoundError:
            return LogChunk("", 0, 0, 0, complete, exists=False)
        start = min(max(offset, 0), size)
        end = min(size, start + max(0, max_bytes))
        raw = bytes(self.fs.cat_file(path, start=start, end=end)) if end > start else b""
        return LogChunk.read(raw, start, size, complete)

    def delete_logs(self, run_id: str) -> None:
        """Remove every uploaded stream of run `run_id`."""
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm(self._run_dir(run_id), recursive=True)


class LocalThenRemoteComputeLogManager(LocalComputeLogManager):
    """Reads a step's compute logs from this host's files when it has them (steps run here,
    or a worker on this host), else from the object store the workers upload to."""

    def __init__(self, base_dir: Path, remote: ObjectStoreComputeLogs) -> None:
        super().__init__(base_dir)
        self.remote = remote

    def _local(self, run_id: str, step_key: str) -> bool:
        return super().has_logs(run_id, step_key)

    def is_capture_complete(self, run_id: str, step_key: str) -> bool:
        """The local marker, else the uploaded one."""
        if self._local(run_id, step_key):
            return super().is_capture_complete(run_id, step_key)
        return self.remote.is_capture_complete(run_id, step_key)

    def has_logs(self, run_id: str, step_key: str) -> bool:
        """Captured here, or uploaded."""
        return self._local(run_id, step_key) or self.remote.has_logs(run_id, step_key)

    def get_log_data(
        self,
        run_id: str,
        step_key: str,
        io_type: ComputeIOType,
        offset: int = 0,
        max_bytes: int = MAX_BYTES_CHUNK_READ,
    ) -> LogChunk:
        """From the local files when the step captured here, else from the object store."""
        if self._local(run_id, step_key):
            return super().get_log_data(run_id, step_key, io_type, offset, max_bytes)
        return self.remote.get_log_data(run_id, step_key, io_type, offset, max_bytes)

    def delete_logs(self, run_id: str) -> None:
        """Both copies. The run is deleted already when this runs: an object store that cannot
        be reached leaves its copy (said in the log), never a failed delete."""
        super().delete_logs(run_id)
        try:
            self.remote.delete_logs(run_id)
        except Exception as exc:  # noqa: BLE001 - each store (s3fs, gcsfs...) raises its own
            _log.warning(
                "run %s: its compute logs under %s were not deleted: %s",
                run_id,
                self.remote.url,
                exc,
            )


def remote_compute_logs() -> ObjectStoreComputeLogs | None:
    """The deployment's object store for compute logs (``BAKEHOUSE_COMPUTE_LOGS_URL``), or
    None when compute logs are local files only."""
    url = os.environ.get(ENV_COMPUTE_LOGS_URL, "").strip()
    return ObjectStoreComputeLogs(url) if url else None


def compute_log_manager(storage_dir: Path) -> LocalComputeLogManager:
    """What the host reads compute logs with: the storage folder's files, and the object store
    as well when ``BAKEHOUSE_COMPUTE_LOGS_URL`` names one."""
    remote = remote_compute_logs()
    if remote is None:
        return LocalComputeLogManager(storage_dir)
    return LocalThenRemoteComputeLogManager(storage_dir, remote)


def upload_interval() -> float | None:
    """Seconds between uploads of a running step's partial logs
    (``BAKEHOUSE_COMPUTE_LOGS_UPLOAD_INTERVAL``); None (the default, as Dagster's): only once
    the step's capture ended. Raises ValueError naming the variable when it is not a number."""
    text = os.environ.get(ENV_UPLOAD_INTERVAL, "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(
            f"{ENV_UPLOAD_INTERVAL} must be a number of seconds, not {text!r}"
        ) from None
    if value <= 0:
        raise ValueError(f"{ENV_UPLOAD_INTERVAL} must be above 0, not {text!r}")
    return value

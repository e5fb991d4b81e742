"""Uploading a step's captured stdout and stderr to the deployment's object store, for steps that
run on hosts whose disk the web app cannot read (Celery workers).

The step is captured to local files as everywhere (`bakehouse.execution.compute_logs`); around
it, `uploading_logs` copies them to the store (`bakehouse.storage.remote_compute_logs`) once
the capture ended, with the completion marker last, and every `interval` seconds meanwhile when
one is set. An upload that fails is reported on the worker's stderr and never fails the step:
its output is still in the worker's local files.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator

from bakehouse.storage.compute_logs import LocalComputeLogManager
from bakehouse.storage.remote_compute_logs import ObjectStoreComputeLogs


def _upload(
    remote: ObjectStoreComputeLogs,
    local: LocalComputeLogManager,
    run_id: str,
    step_key: str,
    *,
    complete: bool,
) -> None:
    try:
        remote.upload(local, run_id, step_key, complete=complete)
    except Exception as exc:  # noqa: BLE001 - each store (s3fs, gcsfs...) raises its own errors
        print(
            f"bakehouse: uploading the compute logs of step '{step_key}' (run {run_id}) to "
            f"{remote.url} failed: {type(exc).__name__}: {exc}",
            file=sys.stderr,
            flush=True,
        )


@contextlib.contextmanager
def uploading_logs(
    local: LocalComputeLogManager | None,
    remote: ObjectStoreComputeLogs | None,
    run_id: str,
    step_key: str,
    *,
    interval: float | None = None,
) -> Iterator[None]:
    """Upload the step's files from `local` to `remote` after the block (which captures the
    step), and every `interval` seconds during it; nothing when either is None."""
    if local is None or remote is None:
        yield
        return
    stop = threading.Event()
    thread: threading.Thread | None = None
    if interval is not None:

        def partial_uploads() -> None:
            while not stop.wait(interval):
                _upload(remote, local, run_id, step_key, complete=False)

        thread = threading.Thread(target=partial_uploads, name="compute-log-upload", daemon=True)
        thread.start()
    try:
        yield
    finally:
        stop.set()
        if thread is not None:
            thread.join()
        _upload(remote, local, run_id, step_key, complete=True)

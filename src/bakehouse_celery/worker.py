"""``python -m bakehouse_celery.worker``: a Celery worker for one code location, in the
location's own interpreter (`bh worker start` starts it there).

It loads the location's definitions first (a location that does not load never takes a task),
takes the Celery settings from them (their celery executor) or from the deployment's default
executor, then serves the location's queue with a pool of processes forked from it. A thread
writes the worker's heartbeat to storage every few seconds: where it runs, its queues, the
steps it executes now; the run's executor and `bh worker list` read it.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bakehouse.storage import Instance
    from bakehouse.storage.records import WorkerRecord

DEFAULT_HEARTBEAT_SECONDS = 2.0


def _celery_config(defs: Any, given: str | None, location: str) -> Any:
    from bakehouse_celery.config import CeleryConfig

    if given:
        data = json.loads(given)
        if data.get("name", "celery") != "celery":
            raise SystemExit(
                f"bh worker: the deployment's executor is {data.get('name')!r}, not celery"
            )
        return CeleryConfig.from_executor_config(data.get("config", {}))
    executor = getattr(defs, "executor", None)
    if executor is not None and executor.name == "celery":
        return CeleryConfig.from_executor_config(executor.config)
    raise SystemExit(
        f"bh worker: location '{location}' uses no celery executor: set "
        "Definitions(executor=celery_executor.configured({...})) or [tool.bakehouse.executor] "
        'name = "celery"'
    )


class _Heartbeat(threading.Thread):
    """Writes the worker's record to storage every `interval` seconds until stopped."""

    def __init__(self, instance: Instance, record: WorkerRecord, interval: float) -> None:
        super().__init__(name="bakehouse-worker-heartbeat", daemon=True)
        self.instance = instance
        self.record = record
        self.interval = interval
        self.stopping = threading.Event()

    def beat(self, *, stopped: bool = False) -> None:
        from celery.worker import state

        from bakehouse.serdes import replace

        now = time.time()
        active = tuple(sorted(str(r.id) for r in list(state.active_requests)))
        self.record = replace(
            self.record,
            active=() if stopped else active,
            heartbeat_at=now,
            stopped_at=now if stopped else None,
        )
        self.instance.record_worker(self.record)

    def run(self) -> None:
        while not self.stopping.wait(self.interval):
            try:
                self.beat()
            except Exception as exc:  # noqa: BLE001 - storage may come back; say so and go on
                print(f"bakehouse worker: heartbeat failed: {exc}", file=sys.stderr, flush=True)


def _check_compute_logs() -> None:
    """Fail at start, not on the first step, when the compute logs' object store is set wrong
    (a bad upload interval, a URL whose fsspec filesystem is not installed here)."""
    from bakehouse.storage.remote_compute_logs import remote_compute_logs, upload_interval

    try:
        upload_interval()
        store = remote_compute_logs()
    except (ValueError, ImportError) as exc:
        raise SystemExit(f"bh worker: compute logs: {exc}") from None
    if store is not None:
        print(f"bakehouse worker: uploading compute logs to {store.url}", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Start the worker; returns when Celery's worker stops."""
    parser = argparse.ArgumentParser(prog="python -m bakehouse_celery.worker")
    parser.add_argument("--location", required=True)
    parser.add_argument("--module")
    parser.add_argument("--defs-module")
    parser.add_argument("--storage-url", required=True)
    parser.add_argument("--storage-dir")
    parser.add_argument("-q", "--queue", action="append", default=[])
    parser.add_argument("--concurrency", type=int, default=0)
    parser.add_argument("--heartbeat-interval", type=float, default=DEFAULT_HEARTBEAT_SECONDS)
    parser.add_argument("--executor", help="the deployment's default executor, as JSON")
    parser.add_argument("--loglevel", default="INFO")
    args = parser.parse_args(argv)

    from bakehouse.authoring.loading import (
        isolating_module_errors,
        isolation_from_env,
        load_definitions,
    )
    from bakehouse.serdes import replace
    from bakehouse.storage import Instance
    from bakehouse.storage.records import WorkerRecord
    from bakehouse_celery import tasks
    from bakehouse_celery.app import host_id, make_app

    # As the location's code server and run workers load it (defs_errors): a broken defs module
    # leaves only its own steps unrunnable, and the host refuses plans that need them.
    with isolating_module_errors(isolation_from_env()):
        defs = load_definitions(args.module or "", defs_module=args.defs_module)
    config = _celery_config(defs, args.executor, args.location)
    _check_compute_logs()
    tasks.preload(args.module or "", args.defs_module, defs)
    queues = args.queue or [args.location]
    concurrency = args.concurrency or os.cpu_count() or 1
    hostname = socket.gethostname()
    worker_id = f"{args.location}@{hostname}:{os.getpid()}"
    tasks.WORKER.update(
        worker_id=worker_id,
        host_id=host_id(),
        storage_dir=args.storage_dir or "",
        storage_url=args.storage_url,
    )
    instance = Instance.open(
        args.storage_url, storage_dir=Path(args.storage_dir) if args.storage_dir else None
    )
    # The pool forks from here: its processes must not share this process's connections.
    engine = getattr(getattr(instance, "_db", None), "engine", None)
    if engine is not None:
        os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
    now = time.time()
    record = WorkerRecord(
        worker_id=worker_id,
        hostname=hostname,
        host_id=host_id(),
        pid=os.getpid(),
        location=args.location,
        queues=tuple(queues),
        concurrency=concurrency,
        started_at=now,
        heartbeat_at=now,
    )
    instance.record_worker(record)
    heartbeat = _Heartbeat(instance, replace(record), args.heartbeat_interval)
    heartbeat.start()
    app = make_app(config)
    try:
        app.worker_main(
            [
                "worker",
                "--queues", ",".join(queues),
                "--concurrency", str(concurrency),
                "--hostname", worker_id.replace(":", "-"),
                "--pool", "prefork",
                "--without-gossip",
                "--without-mingle",
                "--loglevel", args.loglevel,
            ]
        )  # fmt: skip
    finally:
        heartbeat.stopping.set()
        heartbeat.join(timeout=5)
        try:
            heartbeat.beat(stopped=True)
        finally:
            instance.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The deployment's view of its step workers (`bh worker list`, the Workers card): each worker's
last heartbeat, turned into rows with a status.

A worker is LIVE while it heartbeats, STOPPED once it said so on its way out, and LOST when its
heartbeats stopped without that (killed, or its machine gone).
"""

from __future__ import annotations

import time
from typing import Any

from bakehouse.storage.protocol import InstanceProtocol
from bakehouse.storage.records import WorkerRecord

# A worker heartbeats every 2 s by default; this many seconds of silence make it LOST.
LOST_AFTER_SECONDS = 30.0
# Stopped and lost workers stay listed this long, then drop off the list.
FORGET_AFTER_SECONDS = 24 * 3600.0


def worker_status(worker: WorkerRecord, now: float) -> str:
    """LIVE, STOPPED or LOST."""
    if worker.stopped_at is not None:
        return "STOPPED"
    return "LOST" if now - worker.heartbeat_at > LOST_AFTER_SECONDS else "LIVE"


def active_steps(worker: WorkerRecord) -> list[dict[str, Any]]:
    """The steps `worker` executes now: run id, step key and attempt, from their task ids."""
    steps = []
    for task in worker.active:
        parts = task.split(":", 3)
        if len(parts) == 4 and parts[0] == "bh" and parts[2].isdigit():
            steps.append({"run_id": parts[1], "attempt": int(parts[2]), "step_key": parts[3]})
        else:
            steps.append({"run_id": None, "attempt": None, "step_key": task})
    return steps


def worker_rows(instance: InstanceProtocol, now: float | None = None) -> list[dict[str, Any]]:
    """Every worker heard from in the last day, live ones first, as plain data."""
    now = time.time() if now is None else now
    rows = []
    for worker in instance.get_workers(seen_since=now - FORGET_AFTER_SECONDS):
        rows.append(
            {
                "worker_id": worker.worker_id,
                "status": worker_status(worker, now),
                "hostname": worker.hostname,
                "pid": worker.pid,
                "location": worker.location,
                "queues": list(worker.queues),
                "concurrency": worker.concurrency,
                "active_steps": active_steps(worker),
                "started_at": worker.started_at,
                "last_heartbeat_at": worker.heartbeat_at,
                "stopped_at": worker.stopped_at,
            }
        )
    order = {"LIVE": 0, "LOST": 1, "STOPPED": 2}
    rows.sort(
        key=lambda r: (order[str(r["status"])], str(r["location"] or ""), str(r["worker_id"]))
    )
    return rows

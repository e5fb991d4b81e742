"""Reads and writes step workers' heartbeats (`workers`) and their claims on steps
(`worker_claims`).

A worker on another host reaches the deployment only through storage and the broker: its row
says where it runs, what it listens to and which steps it executes now, and the claims say which
worker took which attempt of a step, so a run's executor can tell a lost attempt from a slow one.
"""

from __future__ import annotations

import functools
import time

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bakehouse.storage import dialect
from bakehouse.storage.codec import dumps, worker_from_body
from bakehouse.storage.corrupt import read_or_mark, skip_corrupt
from bakehouse.storage.records import WorkerClaim, WorkerRecord
from bakehouse.storage.schema import worker_claims, workers

_W = workers.c
_C = worker_claims.c


def upsert(conn: Connection, record: WorkerRecord) -> None:
    """Store `record` as its worker's current state."""
    dialect.upsert_worker(
        conn,
        {"worker_id": record.worker_id, "heartbeat_at": record.heartbeat_at, "body": dumps(record)},
    )


def select(conn: Connection, *, seen_since: float | None = None) -> list[WorkerRecord]:
    """Workers by id, those heartbeating at or after `seen_since` only when given; rows that
    cannot be read are left out."""
    query = sa.select(_W.worker_id, _W.body).order_by(_W.worker_id)
    if seen_since is not None:
        query = query.where(_W.heartbeat_at >= seen_since)
    return skip_corrupt(
        read_or_mark("workers", worker_id, functools.partial(worker_from_body, body))
        for worker_id, body in conn.execute(query)
    )


def claim(conn: Connection, claim: WorkerClaim) -> bool:
    """Take one attempt of a step for a worker; False if another took it first."""
    return dialect.insert_claim(
        conn,
        {
            "run_id": claim.run_id,
            "step_key": claim.step_key,
            "attempt": claim.attempt,
            "worker_id": claim.worker_id,
            "task_id": claim.task_id,
            "claimed_at": claim.claimed_at or time.time(),
        },
    )


def claims_of(conn: Connection, run_id: str) -> list[WorkerClaim]:
    """Every claim on the steps of `run_id`, oldest first."""
    query = (
        sa.select(_C.run_id, _C.step_key, _C.attempt, _C.worker_id, _C.task_id, _C.claimed_at)
        .where(_C.run_id == run_id)
        .order_by(_C.claimed_at)
    )
    return [
        WorkerClaim(
            run_id=r, step_key=s, attempt=int(a), worker_id=w, task_id=t, claimed_at=float(c)
        )
        for r, s, a, w, t, c in conn.execute(query)
    ]

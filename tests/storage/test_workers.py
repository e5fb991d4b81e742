"""The storage conformance suite for step workers (`workers`, `worker_claims`), on every
backend."""

from __future__ import annotations

import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bakehouse.serdes import replace
from bakehouse.storage import Instance
from bakehouse.storage.records import WorkerClaim, WorkerRecord
from tests.storage.conftest import upgrade_to


def _worker(worker_id: str, heartbeat_at: float, **kw: object) -> WorkerRecord:
    return WorkerRecord(
        worker_id=worker_id,
        hostname="box",
        host_id="machine-1",
        pid=42,
        location="east",
        queues=("east",),
        started_at=heartbeat_at,
        heartbeat_at=heartbeat_at,
        **kw,  # type: ignore[arg-type]
    )


def test_a_heartbeat_replaces_the_workers_state(instance: Instance) -> None:
    now = time.time()
    first = _worker("east@box:42", now - 10)
    instance.record_worker(first)
    later = replace(first, heartbeat_at=now, active=("bh:run-1:1:e0",))
    instance.record_worker(later)
    instance.record_worker(_worker("west@box:43", now - 5000))
    assert instance.get_workers() == [later, _worker("west@box:43", now - 5000)]
    assert instance.get_workers(seen_since=now - 60) == [later]


def test_an_attempt_is_claimed_once(instance: Instance) -> None:
    claim = WorkerClaim(
        run_id="run-1", step_key="e0", attempt=1, worker_id="east@box:42",
        task_id="bh:run-1:1:e0", claimed_at=time.time(),
    )  # fmt: skip
    assert instance.claim_step(claim)
    # The broker delivering the same attempt again, to another worker: refused.
    assert not instance.claim_step(replace(claim, worker_id="east@box:44"))
    retry = replace(claim, attempt=2, worker_id="east@box:44", task_id="bh:run-1:2:e0")
    assert instance.claim_step(retry)
    assert instance.get_step_claims("run-1") == [claim, retry]
    assert instance.get_step_claims("run-2") == []


def test_a_0011_database_gets_the_tables(db_url: str, engine: Engine, tmp_path: Path) -> None:
    upgrade_to(engine, "0011")
    with Instance.open(db_url, storage_dir=tmp_path / "storage") as instance:
        instance.record_worker(_worker("east@box:42", time.time()))
        assert [w.worker_id for w in instance.get_workers()] == ["east@box:42"]
    names = set(sa.inspect(engine).get_table_names())
    assert {"workers", "worker_claims"} <= names

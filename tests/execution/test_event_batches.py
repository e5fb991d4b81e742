"""Events are written one transaction per step boundary, on SQLite and PostgreSQL: a step's
events are committed together with its outcome, what waits is stored within the flush
interval, and nothing buffered is lost when the writer is closed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

import bakehouse as dg
from bakehouse.errors import RunNotFoundError
from bakehouse.execution.events import EventWriter
from bakehouse.execution.run import execute_run
from bakehouse.graph.keys import AssetKey
from bakehouse.storage import Instance, dialect, event_log
from bakehouse.storage.records import EventRecord, EventType, RunRecord
from tests.storage.conftest import backend, db_url, postgres_database
from tests.support.waiting import eventually

__all__ = ["backend", "db_url", "postgres_database"]  # fixtures, used by name


@dg.asset
def flour() -> int:
    return 1


@dg.asset
def dough(context: dg.AssetExecutionContext, flour: int) -> int:
    context.log.info("kneading")
    return flour + 1


@dg.asset
def bread(dough: int) -> int:
    return dough + 1


@pytest.fixture
def instance(db_url: str, tmp_path: Path) -> Iterator[Instance]:
    with Instance.open(db_url, storage_dir=tmp_path / "storage") as opened:
        yield opened


def _commits(instance: Instance) -> list[int]:
    """A list that counts the commits of `instance` from now on."""
    seen: list[int] = []
    sa.event.listen(instance._db.engine, "commit", lambda _conn: seen.append(1))
    return seen


def test_each_step_is_one_transaction_with_its_outcome(instance: Instance) -> None:
    instance.create_run(RunRecord(run_id="r1"))
    commits = _commits(instance)
    # No interval flush: a loaded machine can take over 100 ms within a step, and the flush
    # that bounds a live view's wait (tested below) would add a commit there.
    with EventWriter(instance, "r1", flush_interval=3600) as writer:
        outcome = execute_run(
            defs=dg.Definitions(assets=[flour, dough, bread]),
            asset_keys=[AssetKey("flour"), AssetKey("dough"), AssetKey("bread")],
            run_id="r1",
            writer=writer,
            instance=instance,
        )
    assert outcome.success
    # RUN_START, then one per step (the engine's opening line goes with the first), RUN_SUCCESS.
    assert len(commits) == 1 + 3 + 1
    events = instance.get_events("r1")
    ids = [e.storage_id or 0 for e in events]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    steps = [(e.step_key, EventType(e.event_type)) for e in events if e.step_key == "dough"]
    assert steps[0] == ("dough", EventType.STEP_START)
    assert ("dough", EventType.LOG) in steps
    assert ("dough", EventType.ASSET_MATERIALIZATION) in steps
    assert steps[-1] == ("dough", EventType.STEP_SUCCESS)
    assert set(instance.get_latest_materializations()) == {"flour", "dough", "bread"}


def test_a_buffered_event_is_stored_within_the_flush_interval(instance: Instance) -> None:
    instance.create_run(RunRecord(run_id="r1"))
    with EventWriter(instance, "r1", flush_interval=0.2) as writer:
        writer.emit(EventType.STEP_START, "Started.", step_key="long")
        # Not yet: the step is still going and the interval has not passed.
        assert instance.get_events("r1") == []
        # No further emit: the background flusher stores it (what a live view needs).
        stored = eventually(
            lambda: instance.get_events("r1"), message="the buffered STEP_START to be stored"
        )
        assert [e.event_type for e in stored] == [EventType.STEP_START]


def test_a_step_boundary_stores_the_buffer_at_once_in_order(instance: Instance) -> None:
    instance.create_run(RunRecord(run_id="r1"))
    commits = _commits(instance)
    # An interval no test waits out: only the boundary can have stored them.
    with EventWriter(instance, "r1", flush_interval=3600) as writer:
        writer.emit(EventType.STEP_START, "Started.", step_key="s")
        for n in range(5):
            writer.emit(EventType.LOG, f"line {n}", step_key="s")
        assert instance.get_events("r1") == []
        writer.emit(EventType.STEP_SUCCESS, "Finished.", step_key="s")
        assert len(commits) == 1
        messages = [e.message for e in instance.get_events("r1")]
        assert messages == ["Started.", *(f"line {n}" for n in range(5)), "Finished."]


def test_closing_stores_what_is_buffered(instance: Instance) -> None:
    instance.create_run(RunRecord(run_id="r1"))
    writer = EventWriter(instance, "r1", flush_interval=3600)
    writer.emit(EventType.LOG, "last words")
    writer.close()
    assert [e.message for e in instance.get_events("r1")] == ["last words"]
    writer.close()  # idempotent


def test_threads_logging_at_once_lose_nothing_and_keep_each_ones_order(
    instance: Instance,
) -> None:
    instance.create_run(RunRecord(run_id="r1"))
    with EventWriter(instance, "r1", flush_interval=0.01) as writer:

        def log(name: str) -> None:
            for n in range(50):
                writer.emit(EventType.LOG, f"{name} {n}")

        threads = [threading.Thread(target=log, args=(f"t{i}",)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    messages = [e.message for e in instance.get_events("r1")]
    assert len(messages) == 200
    for i in range(4):
        mine = [m for m in messages if m.startswith(f"t{i} ")]
        assert mine == [f"t{i} {n}" for n in range(50)]


def test_a_refused_store_keeps_the_events_for_the_next_try(instance: Instance) -> None:
    # RUN_START of a run that does not exist is refused, and with it the whole batch.
    writer = EventWriter(instance, "ghost", flush_interval=3600)
    writer.emit(EventType.LOG, "before")
    with pytest.raises(RunNotFoundError):
        writer.emit(EventType.RUN_START, "Started.")
    assert instance.get_events("ghost") == []
    instance.create_run(RunRecord(run_id="ghost"))
    stored = writer.flush()
    assert [e.message for e in stored] == ["before", "Started."]
    assert [e.storage_id for e in stored] == [e.storage_id for e in instance.get_events("ghost")]
    writer.close()


class _CountingCondition(threading.Condition):
    """A condition that counts its wake-ups, to see whether emits wake the flusher."""

    def __init__(self, lock: threading.RLock) -> None:
        super().__init__(lock)
        self.notified = 0

    def notify(self, n: int = 1) -> None:
        self.notified += 1
        super().notify(n)


def test_emits_never_wake_the_flusher_and_a_later_event_is_still_stored_in_time(
    instance: Instance,
) -> None:
    instance.create_run(RunRecord(run_id="r1"))
    writer = EventWriter(instance, "r1", flush_interval=0.2)
    wake = _CountingCondition(writer._lock)
    writer._wake = wake
    try:
        writer.emit(EventType.STEP_START, "Started.", step_key="s")
        eventually(lambda: instance.get_events("r1"), message="the first event to be stored")
        # The flusher now sleeps with an empty buffer; a step's many events must not wake it
        # (each wake-up is a thread switch on the step's path)...
        for n in range(200):
            writer.emit(EventType.LOG, f"line {n}", step_key="s")
        assert wake.notified == 0

        # ...yet it stores them within the interval, as a live view needs.
        def lines() -> list[EventRecord] | None:
            found = [e for e in instance.get_events("r1") if e.event_type == EventType.LOG]
            return found if len(found) == 200 else None

        stored = eventually(lines, message="the buffered lines to be stored by the flusher")
        assert [e.message for e in stored] == [f"line {n}" for n in range(200)]
    finally:
        writer.close()


def test_a_batch_holds_its_runs_log_lock_until_commit_and_keeps_its_order(
    instance: Instance, backend: str
) -> None:
    if backend != "postgres":
        pytest.skip("SQLite serializes every writer; the run log lock is PostgreSQL's")
    instance.create_run(RunRecord(run_id="r1"))
    instance.create_run(RunRecord(run_id="r2"))
    probe = sa.create_engine(instance._db.url)

    def lock_is_free(run_id: str) -> bool:
        # Another session tries the lock `store_events` takes; released at once if it got it.
        with probe.connect() as conn:
            return bool(
                conn.execute(
                    sa.select(
                        sa.func.pg_try_advisory_xact_lock(
                            dialect._LOCK_NAMESPACE_RUN_LOG, sa.func.hashtext(run_id)
                        )
                    )
                ).scalar_one()
            )

    events = [
        EventRecord(run_id="r1", event_type=EventType.LOG, timestamp=n, message=f"line {n}")
        for n in range(7)
    ]
    try:
        with instance._db.write() as conn:
            stored = event_log.store_events(conn, events)
            assert not lock_is_free("r1")  # held by the open transaction
            assert lock_is_free("r2")  # only the batch's own run
        assert lock_is_free("r1")  # committed: released
        ids = [e.storage_id or 0 for e in stored]
        assert ids == sorted(ids)
        assert len(set(ids)) == len(ids)
        read = instance.get_events("r1")
        assert [(e.storage_id, e.message) for e in read] == [
            (e.storage_id, e.message) for e in stored
        ]
        assert [e.message for e in read] == [f"line {n}" for n in range(7)]
    finally:
        probe.dispose()

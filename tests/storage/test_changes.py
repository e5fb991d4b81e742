"""The change signal (`Instance.watch_changes`) and the reads that follow it, on both backends:
a commit from another process wakes a watcher, nothing wakes an idle one, and the followed
events after a cursor are exactly the run status changes and materializations."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bakehouse.storage import EventRecord, EventType, Instance, RunRecord, RunStatus, migrate
from bakehouse.storage.schema import NOTIFYING_TABLES
from tests.storage.conftest import upgrade_to

SCRIPT = Path(__file__).with_name("storage_process.py")


def _event(run_id: str, event_type: EventType, **fields: object) -> EventRecord:
    return EventRecord(run_id=run_id, event_type=event_type, timestamp=time.time(), **fields)  # type: ignore[arg-type]


def test_an_idle_database_does_not_wake_the_watcher(instance: Instance) -> None:
    with instance.watch_changes() as watcher:
        started = time.monotonic()
        assert watcher.wait(0.4) is False
        assert time.monotonic() - started >= 0.39


def test_a_write_in_this_process_wakes_the_watcher_at_once(instance: Instance) -> None:
    with instance.watch_changes() as watcher:
        instance.create_run(RunRecord(run_id="here"))
        started = time.monotonic()
        assert watcher.wait(5) is True
        assert time.monotonic() - started < 1
        # Woken once per change: the next wait sees nothing new.
        assert watcher.wait(0.3) is False


def test_a_commit_from_another_process_wakes_the_watcher(
    instance: Instance, db_url: str, tmp_path: Path
) -> None:
    before = instance.get_max_event_storage_id()
    with instance.watch_changes() as watcher:
        assert watcher.wait(0.2) is False
        done = subprocess.run(
            [sys.executable, str(SCRIPT), "materialize", db_url, str(tmp_path / "s"), "r1", "eggs"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert watcher.wait(10) is True
    changes = instance.get_logged_changes(before)
    assert [(c.run_id, c.event_type, c.asset_key) for c in changes] == [
        ("r1", EventType.RUN_START, None),
        ("r1", EventType.ASSET_MATERIALIZATION, "eggs"),
        ("r1", EventType.RUN_SUCCESS, None),
    ]


def test_logged_changes_are_run_status_changes_and_materializations_after_the_cursor(
    instance: Instance,
) -> None:
    instance.create_run(RunRecord(run_id="a", asset_selection=("x", "y")))
    start = instance.store_event(_event("a", EventType.RUN_START))
    instance.store_event(_event("a", EventType.LOG, message="noise"))
    instance.store_event(_event("a", EventType.ASSET_MATERIALIZATION, asset_key="x"))
    instance.store_event(_event("a", EventType.STEP_SUCCESS, step_key="x"))
    instance.store_event(_event("a", EventType.ASSET_MATERIALIZATION, asset_key="y"))
    assert start.storage_id is not None
    after = instance.get_logged_changes(start.storage_id)
    assert [(c.event_type, c.asset_key) for c in after] == [
        (EventType.ASSET_MATERIALIZATION, "x"),
        (EventType.ASSET_MATERIALIZATION, "y"),
    ]
    assert [c.asset_key for c in instance.get_logged_changes(start.storage_id, limit=1)] == ["x"]
    assert instance.get_logged_changes(after[-1].storage_id) == []


def test_run_heads_and_runs_by_id_read_the_newest_runs(instance: Instance) -> None:
    for i, run_id in enumerate(["old", "mid", "new"]):
        instance.create_run(RunRecord(run_id=run_id, created_at=100.0 + i))
    instance.update_run("mid", status=RunStatus.CANCELED)
    heads = instance.get_run_heads(limit=2)
    assert [(h.run_id, h.status) for h in heads] == [("new", "QUEUED"), ("mid", "CANCELED")]
    found = instance.get_runs_by_id(["old", "missing", "new", "old"])
    assert [r.run_id for r in found] == ["new", "old"]


def _triggers(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'bakehouse_notify_%'")
        )
        return {row[0] for row in rows}


def test_postgres_writes_notify_on_a_fresh_and_on_a_migrated_database(
    backend: str, db_url: str, engine: Engine, tmp_path: Path
) -> None:
    if backend != "postgres":
        return  # SQLite readers watch PRAGMA data_version: nothing in the schema
    expected = {f"bakehouse_notify_{table}" for table in NOTIFYING_TABLES}
    upgrade_to(engine, "0015")
    assert _triggers(engine) == set()
    with engine.connect() as conn, conn.begin():
        migrate.upgrade(conn)
    assert _triggers(engine) == expected
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    with Instance.open(db_url, storage_dir=tmp_path / "fresh"):
        assert _triggers(engine) == expected

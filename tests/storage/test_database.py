"""Storage shared between processes: a live reader, a killed writer, a crowd opening a new file."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from bakehouse.storage import EventType, Instance, RunRecord, RunStatus

SCRIPT = Path(__file__).with_name("storage_process.py")

OpenInstance = Callable[[], Instance]


@contextmanager
def _process(*args: str) -> Iterator[subprocess.Popen[str]]:
    """Start storage_process.py; whatever happens, it is stopped and reaped at the end."""
    with subprocess.Popen(
        [sys.executable, str(SCRIPT), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.communicate(timeout=30)


def test_a_reader_follows_a_log_another_process_is_writing(
    open_instance: OpenInstance, db_url: str, tmp_path: Path
) -> None:
    reader = open_instance()
    reader.create_run(RunRecord(run_id="live"))
    lines = 60
    seen = []
    polls_with_news = 0
    with _process("write-log", db_url, str(tmp_path / "storage"), "live", str(lines)) as proc:
        deadline = time.monotonic() + 60
        cursor = 0
        while time.monotonic() < deadline:
            page = reader.get_events("live", after_storage_id=cursor)
            if page:
                polls_with_news += 1
                seen.extend(page)
                cursor = page[-1].storage_id or 0
                if page[-1].event_type is EventType.RUN_SUCCESS:
                    break
            time.sleep(0.01)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
    assert [e.event_type for e in seen] == [
        EventType.RUN_START,
        *[EventType.LOG] * lines,
        EventType.RUN_SUCCESS,
    ]
    assert [e.message for e in seen[1:-1]] == [f"line {i}" for i in range(lines)]
    # The log arrived in pieces while it was written, not all at the end.
    assert polls_with_news > 2
    assert reader.get_run("live").status is RunStatus.SUCCESS


def test_committed_writes_survive_a_killed_writer(
    open_instance: OpenInstance, db_url: str, tmp_path: Path
) -> None:
    with _process("finish-and-hang", db_url, str(tmp_path / "storage"), "killed") as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        proc.kill()  # SIGKILL: no close(), no atexit, no WAL checkpoint
        proc.wait(timeout=30)

    instance = open_instance()
    run = instance.get_run("killed")
    assert run.status is RunStatus.SUCCESS
    assert run.started_at is not None
    assert run.ended_at is not None
    assert [e.event_type for e in instance.get_events("killed")] == [
        EventType.RUN_START,
        EventType.ASSET_MATERIALIZATION,
        EventType.RUN_SUCCESS,
    ]
    latest = instance.get_latest_materializations(["durable"])["durable"]
    assert (latest.run_id, latest.metadata) == ("killed", {"rows": {"type": "int", "value": 42}})


@pytest.mark.slow
def test_processes_opening_a_fresh_database_at_once_set_it_up_once(
    open_instance: OpenInstance, db_url: str, tmp_path: Path
) -> None:
    start_at = str(time.time() + 1.5)  # long enough for every interpreter to be waiting
    names = [f"crowd-{i}" for i in range(5)]
    with ExitStack() as stack:
        procs = [
            stack.enter_context(_process("open-at", db_url, str(tmp_path / "s"), name, start_at))
            for name in names
        ]
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert (proc.returncode, out.strip()) == (0, "ready"), err
    instance = open_instance()
    assert sorted(r.run_id for r in instance.get_runs()) == names
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
    finally:
        engine.dispose()
    assert len(versions) == 1

"""Causes kept: when storage refuses a run worker (disk full, read-only), the run fails with a
RUN_FAILURE whose message names the cause, recorded by the coordinator as soon as storage takes
writes again, and shown on the run page. Real ``bh launch`` processes; a real SQLite file on a
small tmpfs for a full disk; a PostgreSQL database switched to read-only for read-only storage
(as root, file modes cannot make SQLite read-only, and a tmpfs with open files cannot be
remounted read-only)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support.faults import small_project, small_tmpfs

pytestmark = pytest.mark.slow

FILLS_DISK = """\
import os

import bakehouse as dg


@dg.asset
def fills_disk() -> int:
    with open(os.path.join(os.environ["FILL_DIR"], "filler"), "wb") as out:
        try:
            while True:
                out.write(b"x" * 65536)
                out.flush()
        except OSError:
            pass  # the disk is full now, as the test wants
    return 1
"""

WAITS = """\
import os
import time

import bakehouse as dg



@dg.asset
def waits() -> int:
    while not os.path.exists(os.environ["GO_FILE"]):
        time.sleep(0.1)
    return 1
"""


def _launch(project: Path, env: dict[str, str], asset: str) -> subprocess.Popen[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("BAKEHOUSE_")}
    full.update(env)
    return subprocess.Popen(
        [sys.executable, "-m", "bakehouse", "launch", "--assets", asset],
        cwd=project,
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(proc: subprocess.Popen[str], timeout: float = 120) -> str:
    out, _ = proc.communicate(timeout=timeout)
    return out


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs, unmounted at the end; skipped where this process may not mount one."""
    with small_tmpfs(tmp_path / "small_disk", "4m") as mount_point:
        yield mount_point


def test_a_full_disk_fails_the_run_with_its_cause_once_storage_takes_it(
    tmp_path: Path, small_disk: Path
) -> None:
    project = small_project(tmp_path / "fills", "fills", FILLS_DISK)
    database = small_disk / "bakehouse.db"
    env = {"BAKEHOUSE_STORAGE_URL": f"sqlite:///{database}", "FILL_DIR": str(small_disk)}
    launch = _launch(project, env, "fills_disk")
    filler = small_disk / "filler"
    deadline = time.monotonic() + 90
    while not filler.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert filler.exists(), _finish(launch)
    # The disk stays full: the run cannot be recorded as failed, and is not given up on.
    time.sleep(8)
    assert launch.poll() is None, _finish(launch)
    filler.unlink()
    output = _finish(launch)
    assert launch.returncode == 1, output
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    (status,) = db.execute("SELECT status FROM runs").fetchone()
    messages = [
        m for (m,) in db.execute("SELECT message FROM event_logs WHERE event_type = 'RUN_FAILURE'")
    ]
    db.close()
    assert status == "FAILURE"
    assert len(messages) == 1
    assert "storage refused a write (disk full)" in messages[0]
    assert "database or disk is full" in messages[0]


POSTGRES_ADMIN = os.environ.get(
    "BAKEHOUSE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database (dropped at the end); skipped when the server is down."""
    admin = sa.create_engine(
        POSTGRES_ADMIN, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    name = f"bakehouse_faults_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_ADMIN}: {exc.orig}")
    try:
        yield name
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _admin(sql: str) -> None:
    engine = sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(sql)
    finally:
        engine.dispose()


def _cut_connections(name: str) -> None:
    _admin(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    )


@pytest.mark.postgres
def test_lost_connections_and_a_read_only_database_fail_the_run_with_the_cause(
    tmp_path: Path, postgres_database: str
) -> None:
    project = small_project(tmp_path / "waits", "waits", WAITS)
    url = sa.make_url(POSTGRES_ADMIN).set(database=postgres_database)
    go = tmp_path / "go"
    env = {
        "BAKEHOUSE_STORAGE_URL": url.render_as_string(hide_password=False),
        "GO_FILE": str(go),
    }
    launch = subprocess.Popen(
        [sys.executable, "-m", "bakehouse", "launch", "--assets", "waits",
         "--executor", "in_process"],
        cwd=project,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("BAKEHOUSE_")}, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    reader = sa.create_engine(url)
    try:
        started = "SELECT count(*) FROM event_logs WHERE event_type = 'STEP_START'"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with contextlib.suppress(sa.exc.ProgrammingError), reader.connect() as conn:
                if conn.exec_driver_sql(started).scalar():  # (no table until bh creates it)
                    break
            time.sleep(0.2)
        else:
            pytest.fail(_finish(launch))
        reader.dispose()
        # Every open connection is cut and new ones may only read.
        _admin(f'ALTER DATABASE "{postgres_database}" SET default_transaction_read_only = on')
        _cut_connections(postgres_database)
        go.touch()
        time.sleep(8)
        assert launch.poll() is None, _finish(launch)  # still trying to record the failure
        _admin(f'ALTER DATABASE "{postgres_database}" SET default_transaction_read_only = off')
        _cut_connections(postgres_database)  # read-only sessions made meanwhile go too
        output = _finish(launch)
        assert launch.returncode == 1, output
        with reader.connect() as conn:
            status = conn.exec_driver_sql("SELECT status FROM runs").scalar()
            messages = list(
                conn.exec_driver_sql(
                    "SELECT message FROM event_logs WHERE event_type = 'RUN_FAILURE'"
                ).scalars()
            )
    finally:
        if launch.poll() is None:
            launch.kill()
            launch.communicate()
        reader.dispose()
    assert status == "FAILURE"
    assert len(messages) == 1, messages
    assert (
        "storage refused a write (lost connection to the database)" in messages[0]
        or "storage refused a write (read-only storage)" in messages[0]
    ), messages[0]


def test_a_run_worker_on_a_read_only_sqlite_file_says_so_and_exits_3(tmp_path: Path) -> None:
    from bakehouse.host.client import target_for_project
    from bakehouse.project.settings import read_project
    from bakehouse.protocol.wire import STORAGE_FAILED_EXIT, STORAGE_FAILURE_PREFIX
    from bakehouse.storage import Instance
    from bakehouse.storage.failures import storage_cause
    from bakehouse.storage.records import RunRecord

    project = small_project(tmp_path / "shop")
    database = tmp_path / "db" / "bakehouse.db"
    database.parent.mkdir()
    with Instance.open(f"sqlite:///{database}") as instance:
        instance.create_run(RunRecord(run_id="r1", asset_selection=("orders",)))
    target = target_for_project(read_project(project / "pyproject.toml"))
    read_only = f"sqlite:///file:{database}?mode=ro&uri=true"
    done = subprocess.run(
        [target.python, "-m", "bakehouse", "run-worker", "--run-id", "r1",
         "--storage-url", read_only, "--storage-dir", str(tmp_path / "files"),
         *target.module_args()],
        cwd=project, env=target.process_env(), capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert done.returncode == STORAGE_FAILED_EXIT, done.stderr
    (line,) = [x for x in done.stderr.splitlines() if x.startswith(STORAGE_FAILURE_PREFIX)]
    assert "attempt to write a readonly database" in line
    assert storage_cause(line) == "read-only storage"
    with Instance.open(f"sqlite:///{database}") as instance:
        assert instance.get_run("r1").status.value == "QUEUED"  # nothing half-written

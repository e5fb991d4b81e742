"""Read-only SQLite storage on the host side (the run coordinator's process, not the run
worker's): ``bh launch`` and ``bh dev`` name the cause in one clear error instead of a traceback.

The database sits on a small tmpfs remounted read-only (as root, file modes cannot make SQLite
read-only). The kernel refuses to remount a filesystem read-only while a process holds a file
on it open for writing (EBUSY), and SQLite holds its database open for writing from the first
connection: so storage cannot be taken away from a coordinator in the middle of a run here; a
coordinator that meets read-only storage meets it when it opens it. (The run worker's side, a
database opened read-only, is `test_storage_failures.test_a_run_worker_on_a_read_only_sqlite_
file_says_so_and_exits_3`.)
"""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bakehouse.storage import Instance
from bakehouse.storage.records import RunRecord
from tests.support.faults import bh, small_project, small_tmpfs

pytestmark = pytest.mark.slow


@pytest.fixture
def read_only_storage(tmp_path: Path) -> Iterator[str]:
    """The URL of a SQLite database with one QUEUED run, on a tmpfs remounted read-only;
    skipped where this process may not mount or remount one."""
    with small_tmpfs(tmp_path / "ro_disk", "8m") as mount_point:
        url = f"sqlite:///{mount_point / 'bakehouse.db'}"
        with Instance.open(url, storage_dir=tmp_path / "files") as instance:
            instance.create_run(RunRecord(run_id="queued", asset_selection=("orders",)))
        # As a database copied from elsewhere may be: not in WAL mode, so that a reader could
        # still open it on read-only media (the rollback journal needs no file to read).
        db = sqlite3.connect(mount_point / "bakehouse.db")
        db.execute("PRAGMA journal_mode = DELETE")
        db.close()
        remount = subprocess.run(
            ["mount", "-o", "remount,ro", str(mount_point)],
            capture_output=True,
            text=True,
            check=False,
        )
        if remount.returncode != 0:
            pytest.skip(f"cannot remount the tmpfs read-only here ({remount.stderr.strip()})")
        yield url


def _says_read_only_in_a_line_or_two(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode != 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    said = done.stderr.strip().splitlines()
    assert 1 <= len(said) <= 3, done.stderr
    assert "readonly database" in said[0] or "read-only" in said[0], done.stderr
    assert "bh -v" in done.stderr


def test_bh_launch_on_read_only_storage_names_the_cause(
    tmp_path: Path, read_only_storage: str
) -> None:
    project = small_project(tmp_path / "shop")
    done = bh(
        "launch", "--local", "--assets", "orders", cwd=project,
        env={"BAKEHOUSE_STORAGE_URL": read_only_storage},
    )  # fmt: skip
    _says_read_only_in_a_line_or_two(done)


def test_bh_dev_on_read_only_storage_names_the_cause_before_serving(
    tmp_path: Path, read_only_storage: str
) -> None:
    project = small_project(tmp_path / "shop")
    done = bh(
        "dev", "--port", "0", "--no-reload", cwd=project,
        env={"BAKEHOUSE_STORAGE_URL": read_only_storage}, timeout=120,
    )  # fmt: skip
    _says_read_only_in_a_line_or_two(done)
    assert "Serving" not in done.stdout

"""Connection set-up per backend: SQLite pragmas and write locks, URL handling."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from bakehouse.storage import dialect


def test_postgresql_urls_use_psycopg() -> None:
    url = dialect.parse_url("postgresql://u:secret@db.example/bh")
    assert url.drivername == "postgresql+psycopg"
    assert dialect.parse_url("postgresql+psycopg://h/x").drivername == "postgresql+psycopg"


@pytest.mark.parametrize(
    ("url", "memory", "file"),
    [
        ("sqlite://", True, None),
        ("sqlite:///:memory:", True, None),
        ("sqlite:///rel/x.db", False, Path("rel/x.db")),
        ("sqlite:////abs/x.db", False, Path("/abs/x.db")),
        ("postgresql+psycopg://h/x", False, None),
    ],
)
def test_sqlite_kinds(url: str, memory: bool, file: Path | None) -> None:
    parsed = dialect.parse_url(url)
    assert dialect.is_sqlite_memory(parsed) is memory
    assert dialect.sqlite_file(parsed) == file


def test_sqlite_connections_are_set_up_for_many_processes(tmp_path: Path) -> None:
    engine = dialect.create_engine(dialect.parse_url(f"sqlite:///{tmp_path}/x.db"))
    try:
        with engine.connect() as conn:

            def pragma(name: str) -> object:
                return conn.exec_driver_sql(f"PRAGMA {name}").scalar()

            assert pragma("journal_mode") == "wal"
            assert pragma("synchronous") == 1  # NORMAL
            assert pragma("busy_timeout") == dialect.SQLITE_BUSY_TIMEOUT_MS
            assert pragma("foreign_keys") == 1
    finally:
        engine.dispose()


def test_sqlite_write_transactions_take_the_lock_at_begin(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    engine = dialect.create_engine(dialect.parse_url(f"sqlite:///{path}"))
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        with engine.connect() as conn:
            conn.execution_options(**dialect.WRITE_OPTIONS)
            with conn.begin():
                # Nothing written yet, but the lock is held: another writer cannot start.
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("BEGIN IMMEDIATE")
                # Readers are not blocked (WAL).
                assert other.execute("SELECT 1").fetchone() == (1,)
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
            # A read transaction takes no write lock.
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
    finally:
        other.close()
        engine.dispose()

"""`durability`: each level's commit setting, read back from the database on every connection,
on SQLite and PostgreSQL; the URL carries it to the processes an instance hands it to."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bakehouse.errors import StorageError
from bakehouse.storage import Instance
from bakehouse.storage.durability import Durability

# SQLite's PRAGMA synchronous answers a number: 1 = NORMAL, 2 = FULL.
SQLITE_SYNCHRONOUS = {"normal": 1, "full": 2}
# PostgreSQL's SHOW synchronous_commit; `full` leaves the server's setting (on by default).
POSTGRES_SYNCHRONOUS_COMMIT = {"normal": "off", "full": "on"}


def _setting(instance: Instance, backend: str) -> object:
    with instance._db.read() as conn:
        if backend == "sqlite":
            return conn.exec_driver_sql("PRAGMA synchronous").scalar()
        return conn.exec_driver_sql("SHOW synchronous_commit").scalar()


def _expected(backend: str, level: str) -> object:
    table = SQLITE_SYNCHRONOUS if backend == "sqlite" else POSTGRES_SYNCHRONOUS_COMMIT
    return table[level]


@pytest.mark.parametrize("level", ["normal", "full"])
def test_each_level_sets_the_commit_setting_of_every_connection(
    db_url: str, backend: str, tmp_path: Path, level: Durability
) -> None:
    with Instance.open(db_url, storage_dir=tmp_path / "s", durability=level) as instance:
        assert instance.durability == level
        assert _setting(instance, backend) == _expected(backend, level)
        # Not only the first connection: a second one, opened while the first is in use.
        with instance._db.read():
            assert _setting(instance, backend) == _expected(backend, level)


def test_the_default_is_normal(db_url: str, backend: str, tmp_path: Path) -> None:
    with Instance.open(db_url, storage_dir=tmp_path / "s") as instance:
        assert instance.durability == "normal"
        assert _setting(instance, backend) == _expected(backend, "normal")
        assert "durability" not in instance.url  # the default URL stays as given


def test_the_url_carries_full_durability_to_the_next_opener(
    db_url: str, backend: str, tmp_path: Path
) -> None:
    with Instance.open(db_url, storage_dir=tmp_path / "s", durability="full") as first:
        assert make_url(first.url).query["durability"] == "full"
        # A run worker opens the instance by its URL alone.
        with Instance.open(first.url, storage_dir=tmp_path / "s") as second:
            assert second.durability == "full"
            assert _setting(second, backend) == _expected(backend, "full")
            run_count = len(second.get_runs())
        assert run_count == 0


def test_the_url_wins_over_the_setting(db_url: str, backend: str, tmp_path: Path) -> None:
    url = make_url(db_url).update_query_dict({"durability": "full"})
    text = url.render_as_string(hide_password=False)
    with Instance.open(text, storage_dir=tmp_path / "s", durability="normal") as instance:
        assert instance.durability == "full"
        assert _setting(instance, backend) == _expected(backend, "full")


def test_an_unknown_level_in_the_url_is_a_storage_error(db_url: str, tmp_path: Path) -> None:
    url = make_url(db_url).update_query_dict({"durability": "fast"})
    with pytest.raises(StorageError, match="durability must be one of 'normal', 'full'"):
        Instance.open(url.render_as_string(hide_password=False), storage_dir=tmp_path / "s")

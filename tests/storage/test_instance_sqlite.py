"""The ways to open an instance that only SQLite offers: a home folder, the default, in memory."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from bakehouse.errors import StorageError
from bakehouse.storage import EventRecord, EventType, Instance, RunRecord


def test_for_home_creates_the_folder_and_keeps_data(tmp_path: Path) -> None:
    home = tmp_path / "not" / "yet"
    with Instance.for_home(home) as instance:
        assert instance.home == home
        assert instance.storage_dir == home / "storage"
        assert instance.storage_dir.is_dir()
        assert (home / "bakehouse.db").is_file()
        assert instance.url == f"sqlite:///{home / 'bakehouse.db'}"
        instance.create_run(RunRecord(run_id="r1"))
    with Instance.for_home(home) as again:
        assert again.get_run("r1").run_id == "r1"


def test_for_home_accepts_awkward_paths(tmp_path: Path) -> None:
    home = tmp_path / "a b?c#d%20"
    with Instance.for_home(home) as instance:
        instance.create_run(RunRecord(run_id="r1"))
    assert (home / "bakehouse.db").is_file()
    with Instance.for_home(home) as again:
        assert again.get_run("r1").run_id == "r1"


@pytest.mark.parametrize("home_from_env", [True, False])
def test_from_env_without_url_uses_a_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, home_from_env: bool
) -> None:
    monkeypatch.delenv("BAKEHOUSE_STORAGE_URL", raising=False)
    if home_from_env:
        monkeypatch.setenv("BAKEHOUSE_HOME", str(tmp_path / "env_home"))
    else:
        monkeypatch.delenv("BAKEHOUSE_HOME", raising=False)
    expected = tmp_path / ("env_home" if home_from_env else "default")
    with Instance.from_env(tmp_path / "default") as instance:
        assert instance.home == expected
        assert (expected / "bakehouse.db").is_file()


def test_open_sqlite_file_puts_storage_next_to_it(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    with Instance.open(f"sqlite:///{tmp_path}/sub/x.db") as instance:
        assert instance.home is None
        assert instance.storage_dir == tmp_path / "sub" / "storage"


def test_a_sqlite_file_in_a_missing_folder_is_an_error_and_nothing_is_created(
    tmp_path: Path,
) -> None:
    with pytest.raises(StorageError, match=r"folder that does not exist .*create the folder"):
        Instance.open(f"sqlite:///{tmp_path}/missing/dir/x.db")
    assert not (tmp_path / "missing").exists()


def test_ephemeral_is_private_and_cleans_up() -> None:
    with Instance.ephemeral() as first, Instance.ephemeral() as second:
        first.create_run(RunRecord(run_id="r1"))
        assert second.get_runs() == []
        storage_dir = first.storage_dir
        assert storage_dir.is_dir()
        assert first.home is None
    assert not storage_dir.exists()


def test_ephemeral_is_shared_across_threads() -> None:
    with Instance.ephemeral() as instance:
        instance.create_run(RunRecord(run_id="r1"))
        errors: list[BaseException] = []

        def write() -> None:
            try:
                for i in range(50):
                    instance.store_event(
                        EventRecord(run_id="r1", event_type=EventType.LOG, timestamp=float(i))
                    )
                    instance.get_events("r1")
            except BaseException as exc:  # noqa: BLE001 (a failure in a thread must fail the test)
                errors.append(exc)

        threads = [threading.Thread(target=write) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert len(instance.get_events("r1")) == 200


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "not a database URL"),
        ("mysql://u@h/db", "unsupported storage backend"),
        ("postgresql+psycopg://postgres@127.0.0.1/x", "storage_dir is required"),
    ],
)
def test_open_refuses_what_it_cannot_serve(url: str, message: str) -> None:
    with pytest.raises(StorageError, match=message):
        Instance.open(url)


def test_unreachable_database_is_a_storage_error(tmp_path: Path) -> None:
    # A folder where the database file should be: SQLite cannot open it.
    (tmp_path / "db").mkdir()
    with pytest.raises(StorageError, match="cannot open storage"):
        Instance.open(f"sqlite:///{tmp_path}/db", storage_dir=tmp_path / "s")

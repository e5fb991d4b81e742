"""Revision 0004 moves the dynamic partition keys of a 0003 instance from its JSON file into the
database, keeping each definition's order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bakehouse.errors import StorageError
from bakehouse.storage import Instance, migrate
from tests.storage.conftest import upgrade_to

FILE_NAME = "_dynamic_partitions.json"


def _revision(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return migrate.current_revisions(conn)


def test_keys_in_the_file_of_a_0003_instance_move_into_the_database_in_order(
    db_url: str, engine: Engine, tmp_path: Path
) -> None:
    upgrade_to(engine, "0003")
    storage_dir = tmp_path / "storage"
    storage_dir.mkdir()
    # As the 0003 file store wrote it: names sorted, keys in the order they were added.
    keys = [f"file-{n:04d}" for n in range(1_200, 0, -1)]  # more than one INSERT
    data = {"files": keys, "fruits": ["pear", "apple", "cherry"], "empty": []}
    path = storage_dir / FILE_NAME
    path.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")

    with Instance.open(db_url, storage_dir=storage_dir) as instance:
        assert _revision(engine) == migrate.known_revisions()[-1:]
        assert instance.get_dynamic_partitions("fruits") == ["pear", "apple", "cherry"]
        assert instance.get_dynamic_partitions("files") == keys
        assert instance.get_dynamic_partitions("empty") == []
        assert instance.has_dynamic_partition("fruits", "apple")
        # The table carries on from there, and the file no longer counts.
        instance.add_dynamic_partitions("fruits", ["banana", "pear"])
        instance.delete_dynamic_partition("fruits", "apple")
        assert instance.get_dynamic_partitions("fruits") == ["pear", "cherry", "banana"]
    assert json.loads(path.read_text(encoding="utf-8")) == data  # left as it was

    with Instance.open(db_url, storage_dir=storage_dir) as again:
        assert again.get_dynamic_partitions("fruits") == ["pear", "cherry", "banana"]


def test_a_0003_instance_without_the_file_upgrades_with_no_keys(
    db_url: str, engine: Engine, tmp_path: Path
) -> None:
    upgrade_to(engine, "0003")
    with Instance.open(db_url, storage_dir=tmp_path / "storage") as instance:
        assert _revision(engine) == migrate.known_revisions()[-1:]
        assert instance.get_dynamic_partitions("fruits") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [("{not json", "is not valid JSON"), ('{"fruits": "apple"}', "does not hold a JSON object")],
)
def test_a_broken_file_stops_the_upgrade_and_says_which_file(
    db_url: str, engine: Engine, tmp_path: Path, text: str, message: str
) -> None:
    upgrade_to(engine, "0003")
    storage_dir = tmp_path / "storage"
    storage_dir.mkdir()
    (storage_dir / FILE_NAME).write_text(text, encoding="utf-8")
    with pytest.raises(StorageError, match=f"{FILE_NAME}.*{message}.*move it away"):
        Instance.open(db_url, storage_dir=storage_dir)
    assert _revision(engine) == ["0003"]  # nothing changed: the upgrade was rolled back

    (storage_dir / FILE_NAME).rename(storage_dir / "moved-away.json")
    with Instance.open(db_url, storage_dir=storage_dir) as instance:
        assert instance.get_dynamic_partitions("fruits") == []

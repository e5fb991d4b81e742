"""The storage conformance suite for dynamic partition keys (table `dynamic_partitions`).

Every test runs on every backend (see conftest.py); the last one races real processes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bakehouse.errors import StorageError
from bakehouse.storage import Instance, schema
from tests.storage import racing
from tests.storage.conftest import OpenInstance

SCRIPT = Path(__file__).with_name("dynamic_partitions_process.py")

# Longer than a PostgreSQL btree entry may be (about 2.7 kB): such text must still be usable.
LONG = "x" * 10_000


def test_keys_come_back_in_the_order_they_were_added(instance: Instance) -> None:
    assert instance.get_dynamic_partitions("fruits") == []
    instance.add_dynamic_partitions("fruits", ["pear", "apple"])
    instance.add_dynamic_partitions("fruits", ["cherry", "banana"])
    assert instance.get_dynamic_partitions("fruits") == ["pear", "apple", "cherry", "banana"]


def test_adding_a_key_that_is_there_keeps_its_place(instance: Instance) -> None:
    instance.add_dynamic_partitions("fruits", ["apple", "banana"])
    instance.add_dynamic_partitions("fruits", ["banana", "cherry", "cherry", "apple"])
    instance.add_dynamic_partitions("fruits", [])
    assert instance.get_dynamic_partitions("fruits") == ["apple", "banana", "cherry"]


def test_definitions_keep_their_keys_apart(instance: Instance) -> None:
    instance.add_dynamic_partitions("fruits", ["apple"])
    instance.add_dynamic_partitions("vegetables", ["apple", "leek"])
    instance.delete_dynamic_partition("vegetables", "apple")
    assert instance.get_dynamic_partitions("fruits") == ["apple"]
    assert instance.get_dynamic_partitions("vegetables") == ["leek"]
    assert instance.has_dynamic_partition("fruits", "apple")
    assert not instance.has_dynamic_partition("vegetables", "apple")
    assert not instance.has_dynamic_partition("unknown", "apple")


def test_delete_removes_a_key_and_a_missing_key_is_no_error(instance: Instance) -> None:
    instance.add_dynamic_partitions("fruits", ["apple", "banana", "cherry"])
    instance.delete_dynamic_partition("fruits", "banana")
    instance.delete_dynamic_partition("fruits", "banana")
    instance.delete_dynamic_partition("nothing", "banana")
    assert instance.get_dynamic_partitions("fruits") == ["apple", "cherry"]
    assert not instance.has_dynamic_partition("fruits", "banana")
    # Added again, a deleted key goes to the end, as a new key would.
    instance.add_dynamic_partitions("fruits", ["banana"])
    assert instance.get_dynamic_partitions("fruits") == ["apple", "cherry", "banana"]


def test_long_names_and_keys_are_usable(instance: Instance) -> None:
    name, key = "n" + LONG, "k" + LONG
    instance.add_dynamic_partitions(name, [key, "short"])
    instance.add_dynamic_partitions(name, [key])
    assert instance.get_dynamic_partitions(name) == [key, "short"]
    assert instance.has_dynamic_partition(name, key)
    instance.delete_dynamic_partition(name, key)
    assert instance.get_dynamic_partitions(name) == ["short"]


def test_many_keys_are_added_in_one_call(instance: Instance) -> None:
    keys = [f"file-{n:05d}" for n in range(1_234, 0, -1)]  # more than one INSERT statement
    instance.add_dynamic_partitions("files", keys)
    assert instance.get_dynamic_partitions("files") == keys


def test_a_failed_add_adds_nothing(instance: Instance, engine: Engine, backend: str) -> None:
    # The last key fails in the second INSERT: on PostgreSQL a NUL byte, which text refuses;
    # on SQLite a trigger refuses it. The first INSERT's 500 keys must be rolled back too.
    bad = "bad\x00" if backend == "postgres" else "bad"
    if backend == "sqlite":
        with engine.connect() as conn, conn.begin():
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse AFTER INSERT ON dynamic_partitions "
                "WHEN NEW.partition_key = 'bad' BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
    with pytest.raises(StorageError, match=r"refused|NUL"):
        instance.add_dynamic_partitions("fruits", [*(f"k-{n}" for n in range(600)), bad])
    assert instance.get_dynamic_partitions("fruits") == []


def test_bad_arguments_are_refused_with_what_was_wrong(instance: Instance) -> None:
    with pytest.raises(TypeError, match="a list of keys, not one string"):
        instance.add_dynamic_partitions("fruits", "apple")
    with pytest.raises(TypeError, match=r"partition_keys\[1\] must be a string, got int"):
        instance.add_dynamic_partitions("fruits", ["apple", 3])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="partitions_def_name is empty"):
        instance.add_dynamic_partitions("", ["apple"])
    assert instance.get_dynamic_partitions("fruits") == []


def test_keys_are_shared_by_every_instance_of_the_database(open_instance: OpenInstance) -> None:
    first, second = open_instance(), open_instance()
    first.add_dynamic_partitions("fruits", ["apple"])
    second.add_dynamic_partitions("fruits", ["banana", "apple"])
    assert first.get_dynamic_partitions("fruits") == ["apple", "banana"]
    second.delete_dynamic_partition("fruits", "apple")
    assert first.get_dynamic_partitions("fruits") == ["banana"]


def test_keys_live_in_the_database_not_in_the_storage_folder(
    instance: Instance, engine: Engine
) -> None:
    instance.add_dynamic_partitions("fruits", ["apple"])
    assert not list(instance.storage_dir.glob("*dynamic*"))
    with engine.connect() as conn:
        rows = conn.execute(sa.select(schema.dynamic_partitions.c.partition_key)).all()
    assert [r.partition_key for r in rows] == ["apple"]


@pytest.mark.slow
def test_processes_adding_keys_at_once_lose_none(db_url: str, tmp_path: Path) -> None:
    count, processes = 40, 3
    Instance.open(db_url, storage_dir=tmp_path / "s").close()  # schema set up before the race
    orders = racing.race(SCRIPT, "add", db_url, tmp_path, processes=processes, count=count)
    with Instance.open(db_url, storage_dir=tmp_path / "s") as instance:
        keys = instance.get_dynamic_partitions("fruits")
    own = {f"p{p}-{i}" for p in range(processes) for i in range(count)}
    shared = {f"k-{i}" for i in range(count + 1)}
    assert len(keys) == len(set(keys)) == len(own | shared)
    assert set(keys) == own | shared
    # Each process's own keys are in the order that process added them.
    for p, order in enumerate(orders):
        mine = [k for k in keys if k.startswith(f"p{p}-")]
        assert mine == [f"p{p}-{i}" for i in order]

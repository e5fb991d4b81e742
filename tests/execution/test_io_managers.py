"""IO managers: the filesystem default (pickles under the storage folder) and the in-memory one."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

import bakehouse as dg
from bakehouse.execution.fs_io_manager import FilesystemIOManager
from bakehouse.execution.io_managers import (
    InMemoryIOManager,
    InputContext,
    MissingValueError,
    OutputContext,
)
from bakehouse.graph.keys import AssetKey
from bakehouse.storage import Instance

KEY = AssetKey(["raw", "orders"])


def output_context(key: AssetKey = KEY, partition: str | None = None) -> OutputContext:
    return OutputContext(asset_key=key, step_key="step", run_id="run", partition_key=partition)


def input_context(key: AssetKey = KEY, partition: str | None = None) -> InputContext:
    return InputContext(
        asset_key=key,
        name="orders",
        upstream_output=output_context(key, partition),
        partition_key=partition,
    )


def test_filesystem_pickles_to_the_key_parts_and_reports_the_path(tmp_path: Path) -> None:
    manager = FilesystemIOManager(tmp_path)
    context = output_context()

    manager.handle_output(context, {"rows": [1, 2]})

    path = tmp_path / "raw" / "orders"
    assert pickle.loads(path.read_bytes()) == {"rows": [1, 2]}
    assert context.added_metadata == {"path": dg.MetadataValue.path(path)}
    assert manager.load_input(input_context()) == {"rows": [1, 2]}
    assert sorted(p.name for p in (tmp_path / "raw").iterdir()) == ["orders"]  # no temp files


def test_filesystem_writes_partitions_below_the_key(tmp_path: Path) -> None:
    manager = FilesystemIOManager(tmp_path)
    manager.handle_output(output_context(partition="2024-01-01"), 1)
    assert (tmp_path / "raw" / "orders" / "2024-01-01").is_file()
    assert manager.load_input(input_context(partition="2024-01-01")) == 1


def test_filesystem_overwrites_the_previous_value(tmp_path: Path) -> None:
    manager = FilesystemIOManager(tmp_path)
    manager.handle_output(output_context(), "old")
    manager.handle_output(output_context(), "new")
    assert manager.load_input(input_context()) == "new"


def test_filesystem_missing_value_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(MissingValueError) as err:
        FilesystemIOManager(tmp_path).load_input(input_context())
    message = str(err.value)
    assert f"no stored value for asset 'raw/orders' (expected at {tmp_path}/raw/orders)" in message
    assert "use deps=[...] instead of a parameter" in message


def test_filesystem_needs_a_base_dir() -> None:
    with pytest.raises(RuntimeError, match="needs a base_dir"):
        FilesystemIOManager().handle_output(output_context(), 1)


def test_in_memory_round_trip_and_missing_value() -> None:
    manager = InMemoryIOManager()
    manager.handle_output(output_context(), [1])
    assert manager.load_input(input_context()) == [1]
    with pytest.raises(MissingValueError, match="not in this in-memory IO manager"):
        manager.load_input(input_context(AssetKey("other")))


@dg.asset(key_prefix="raw")
def orders() -> list[int]:
    return [1, 2, 3]


@dg.asset(ins={"orders": dg.AssetIn(key="raw/orders")})
def total(orders: list[int]) -> int:
    return sum(orders)


def test_a_run_stores_values_under_the_instance_storage_folder(tmp_path: Path) -> None:
    with Instance.for_home(tmp_path / "home") as instance:
        result = dg.materialize([orders, total], instance=instance)
        storage = instance.storage_dir

    assert result.success
    assert pickle.loads((storage / "raw" / "orders").read_bytes()) == [1, 2, 3]
    assert pickle.loads((storage / "total").read_bytes()) == 6
    assert result.metadata_for("raw/orders")["path"] == {
        "type": "path",
        "value": str(storage / "raw" / "orders"),
    }


@dg.asset
def returns_nothing() -> None:
    return None


@dg.asset
def reads_nothing(returns_nothing: object) -> object:
    return returns_nothing


def test_an_input_whose_upstream_returned_none_fails_with_a_clear_message() -> None:
    with pytest.raises(MissingValueError) as err:
        dg.materialize([returns_nothing, reads_nothing])
    message = str(err.value)
    assert message.startswith("no stored value for asset 'returns_nothing' (expected at ")
    assert message.endswith(
        "Materialize it first; if its function returns nothing and you only need ordering, "
        "use deps=[...] instead of a parameter"
    )


def test_a_custom_io_manager_key_is_used_to_store_and_to_load() -> None:
    lake = InMemoryIOManager()

    @dg.asset(io_manager_key="lake")
    def stored() -> int:
        return 7

    @dg.asset
    def loaded(stored: int) -> int:
        return stored * 2

    result = dg.materialize([stored, loaded], resources={"lake": lake})

    assert lake.values == {(AssetKey("stored"), None): 7}
    assert result.asset_value("loaded") == 14

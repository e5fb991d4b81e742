"""Static, multi-dimensional and dynamic partitions (keys checked against Dagster 1.13)."""

from __future__ import annotations

import pickle
from datetime import datetime
from pathlib import Path

import pytest

import bakehouse as dg
from bakehouse.storage import Instance

DAYS = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-04")
REGIONS = dg.StaticPartitionsDefinition(["us", "eu"])


def test_static_keys_keep_their_order() -> None:
    letters = dg.StaticPartitionsDefinition(["a", "b", "c", "d"])

    assert letters.get_partition_keys() == ["a", "b", "c", "d"]
    assert (letters.get_first_partition_key(), letters.get_last_partition_key()) == ("a", "d")
    assert letters.get_partition_keys_in_range(dg.PartitionKeyRange("b", "c")) == ["b", "c"]
    assert letters.has_partition_key("c")
    assert not letters.has_partition_key("e")
    with pytest.raises(dg.UnknownPartitionError, match="no partition 'e'"):
        letters.get_partition_keys_in_range(dg.PartitionKeyRange("b", "e"))


def test_static_keys_must_be_unique() -> None:
    with pytest.raises(dg.DefinitionError, match=r"Duplicate instances of partition keys: \['a'\]"):
        dg.StaticPartitionsDefinition(["a", "b", "a"])


def test_multi_keys_join_dimensions_in_name_order_first_varying_slowest() -> None:
    multi = dg.MultiPartitionsDefinition({"region": REGIONS, "date": DAYS})

    keys = multi.get_partition_keys()

    assert keys == [
        "2024-01-01|us",
        "2024-01-01|eu",
        "2024-01-02|us",
        "2024-01-02|eu",
        "2024-01-03|us",
        "2024-01-03|eu",
    ]
    assert keys[1].keys_by_dimension == {"date": "2024-01-01", "region": "eu"}
    assert multi.partition_dimension_names == ["date", "region"]
    assert multi.has_partition_key("2024-01-02|us")
    assert not multi.has_partition_key("us|2024-01-02")
    assert not multi.has_partition_key("2024-01-02")


def test_multi_partition_key_is_a_string_that_knows_its_dimensions() -> None:
    key = dg.MultiPartitionKey({"region": "us", "date": "2024-01-02"})

    assert key == "2024-01-02|us"
    assert key.keys_by_dimension == {"date": "2024-01-02", "region": "us"}
    assert [d.dimension_name for d in key.dimension_keys] == ["date", "region"]
    assert pickle.loads(pickle.dumps(key)).keys_by_dimension == key.keys_by_dimension


def test_multi_range_is_the_rectangle_between_its_corners() -> None:
    multi = dg.MultiPartitionsDefinition({"region": REGIONS, "date": DAYS})

    assert multi.get_partition_keys_in_range(
        dg.PartitionKeyRange("2024-01-01|us", "2024-01-02|eu")
    ) == ["2024-01-01|us", "2024-01-01|eu", "2024-01-02|us", "2024-01-02|eu"]


def test_multi_time_window_is_its_time_dimensions() -> None:
    multi = dg.MultiPartitionsDefinition({"region": REGIONS, "date": DAYS})

    window = multi.time_window_for_partition_key("2024-01-02|eu")

    assert window == DAYS.time_window_for_partition_key("2024-01-02")


@pytest.mark.parametrize(
    ("dims", "message"),
    [
        ({"a": REGIONS}, "exactly two dimensions"),
        ({"a": REGIONS, "b": REGIONS, "c": REGIONS}, "exactly two dimensions"),
        (
            {"a": REGIONS, "b": dg.StaticPartitionsDefinition(["x|y"])},
            "dimension 'b' has keys ['x|y']",
        ),
        ({"a": REGIONS, "b": "days"}, "dimension 'b' must be a static, time-window or dynamic"),
    ],
)
def test_multi_dimension_errors(dims: dict[str, object], message: str) -> None:
    with pytest.raises(dg.DefinitionError) as err:
        dg.MultiPartitionsDefinition(dims)  # type: ignore[arg-type]

    assert message in str(err.value)


def test_dynamic_keys_live_in_the_instance(tmp_path: Path) -> None:
    fruits = dg.DynamicPartitionsDefinition(name="fruits")
    with Instance.for_home(tmp_path) as instance:
        instance.add_dynamic_partitions("fruits", ["apple", "banana"])
        instance.add_dynamic_partitions("fruits", ["apple", "cherry"])
        instance.delete_dynamic_partition("fruits", "banana")

        assert fruits.get_partition_keys(dynamic_partitions_store=instance) == ["apple", "cherry"]
        assert fruits.has_partition_key("apple", dynamic_partitions_store=instance)
        assert not fruits.has_partition_key("banana", dynamic_partitions_store=instance)
    # Another process opening the same instance sees the same keys.
    with Instance.for_home(tmp_path) as again:
        assert again.get_dynamic_partitions("fruits") == ["apple", "cherry"]
        assert again.get_dynamic_partitions("vegetables") == []


def test_dynamic_keys_need_a_store() -> None:
    fruits = dg.DynamicPartitionsDefinition(name="fruits")

    with pytest.raises(TypeError, match=r"pass dynamic_partitions_store=context\.instance"):
        fruits.get_partition_keys()


def test_equal_definitions_compare_equal() -> None:
    assert dg.StaticPartitionsDefinition(["a"]) == dg.StaticPartitionsDefinition(["a"])
    assert dg.DynamicPartitionsDefinition("x") == dg.DynamicPartitionsDefinition("x")
    assert dg.DailyPartitionsDefinition(start_date="2024-01-01") != dg.DailyPartitionsDefinition(
        start_date="2024-01-02"
    )
    assert (
        len({DAYS, dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-04")})
        == 1
    )


def test_current_time_is_read_in_the_definitions_zone_when_naive() -> None:
    tokyo = dg.DailyPartitionsDefinition(start_date="2024-01-01", timezone="Asia/Tokyo")

    assert tokyo.get_last_partition_key(current_time=datetime(2024, 1, 3, 0, 30)) == "2024-01-02"

"""`AssetKey`: parsing, printing and coercion of asset keys."""

from __future__ import annotations

import pytest

from bakehouse.graph.keys import AssetKey, coerce_key


def test_user_string_round_trips_through_parts() -> None:
    key = AssetKey.from_user_string(" raw/orders ")
    assert key.path == ("raw", "orders")
    assert key.to_user_string() == "raw/orders"
    assert str(key) == "raw/orders"
    assert key == AssetKey(["raw", "orders"])
    assert hash(key) == hash(AssetKey(["raw", "orders"]))


def test_python_identifier_joins_parts_and_replaces_punctuation() -> None:
    assert AssetKey(["raw", "my-orders.v2"]).to_python_identifier() == "raw__my_orders_v2"


def test_prefix_and_parent() -> None:
    key = AssetKey("orders").with_prefix(["lake", "raw"])
    assert key.path == ("lake", "raw", "orders")
    assert key.parent == AssetKey(["lake", "raw"])
    assert AssetKey("orders").parent is None


def test_keys_sort_by_parts() -> None:
    keys = [AssetKey(["b"]), AssetKey(["a", "z"]), AssetKey(["a"])]
    assert [k.to_user_string() for k in sorted(keys)] == ["a", "a/z", "b"]


@pytest.mark.parametrize("bad", [[], ["has space"], ["ok", ""], ["a:b"]])
def test_invalid_parts_are_refused_with_the_part_named(bad: list[str]) -> None:
    with pytest.raises(ValueError, match=r"asset key|at least one part"):
        AssetKey(bad)


def test_coerce_accepts_keys_strings_and_part_lists() -> None:
    key = AssetKey(["raw", "orders"])
    assert coerce_key(key) is key
    assert coerce_key("raw/orders") == key
    assert coerce_key(["raw", "orders"]) == key
    assert coerce_key(("raw", "orders")) == key
    with pytest.raises(TypeError, match="cannot use 42 as an asset key"):
        coerce_key(42)  # type: ignore[arg-type]

"""`AssetGraph`: every asset of a location by key, refusing duplicates and cycles by name, and
keeping undefined dependencies as external assets."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import pytest

import bakehouse as dg
from bakehouse.authoring.asset_graph import AssetGraph
from bakehouse.errors import CycleError, DuplicateKeyError
from bakehouse.graph.keys import AssetKey

WriteModule = Callable[..., ModuleType]


def test_a_cycle_error_names_the_path_in_data_flow_order_and_each_place(
    write_module: WriteModule,
) -> None:
    module = write_module(
        """
        import bakehouse as dg


        @dg.asset
        def orders(report):
            return report


        @dg.asset
        def clean(orders):
            return orders


        @dg.asset
        def report(clean):
            return clean
        """
    )

    with pytest.raises(CycleError) as err:
        AssetGraph([module.orders, module.clean, module.report])

    path = err.value.path
    # Data flows orders -> clean -> report -> orders; any starting point is the same cycle.
    start = path.index("orders")
    assert path[start:] + path[:start] == ["orders", "clean", "report"]
    message = str(err.value)
    assert f"dependency cycle: {' -> '.join([*path, path[0]])}" in message
    for name in ("orders", "clean", "report"):
        assert f"  {name} at {getattr(module, name).source}" in message
    assert message.startswith(f"{getattr(module, path[0]).source}: ")


def test_a_two_asset_cycle() -> None:
    @dg.asset
    def a(b: int) -> int:
        return b

    @dg.asset
    def b(a: int) -> int:
        return a

    with pytest.raises(CycleError) as err:
        dg.Definitions(assets=[a, b]).resolve_asset_graph()
    assert sorted(err.value.path) == ["a", "b"]
    assert f"dependency cycle: {err.value.path[0]} -> {err.value.path[1]} -> " in str(err.value)


def test_two_definitions_of_one_key_name_both() -> None:
    @dg.asset(name="orders")
    def first() -> int:
        return 1

    @dg.asset(name="orders")
    def second() -> int:
        return 2

    with pytest.raises(DuplicateKeyError) as err:
        AssetGraph([first, second])
    assert err.value.first == first.source
    assert err.value.second == second.source
    assert str(err.value).startswith(f"{second.source}: duplicate asset key 'orders': ")
    assert f"also defined at {first.source}" in str(err.value)


def test_a_spec_and_an_asset_with_one_key_are_duplicates() -> None:
    spec = dg.AssetSpec("orders")

    @dg.asset
    def orders() -> int:
        return 1

    with pytest.raises(DuplicateKeyError, match="duplicate asset key 'orders'"):
        AssetGraph([spec, orders])


def test_undefined_dependencies_and_specs_are_external() -> None:
    raw = dg.AssetSpec("raw", group_name="lake", kinds={"s3"})

    @dg.asset(deps=[raw, "elsewhere/thing"])
    def clean() -> int:
        return 1

    graph = AssetGraph([raw, clean])

    assert graph.external_keys == {AssetKey("raw")}
    assert graph.undefined_keys == {AssetKey(["elsewhere", "thing"])}
    assert graph.executable_keys == {AssetKey("clean")}
    assert graph.is_external(AssetKey("raw"))
    assert graph.is_external(AssetKey(["elsewhere", "thing"]))
    assert not graph.is_external(AssetKey("clean"))
    nodes = graph.key_graph.nodes
    assert nodes["raw"].is_external
    assert nodes["raw"].group == "lake"
    assert nodes["elsewhere/thing"].is_external
    assert not nodes["clean"].is_external
    assert graph.key_graph.parents("clean") == ("raw", "elsewhere/thing")


def test_a_multi_asset_maps_each_key_to_its_definition() -> None:
    @dg.multi_asset(outs={"x": dg.AssetOut(), "y": dg.AssetOut()})
    def xy() -> tuple[int, int]:
        return 1, 2

    graph = AssetGraph([xy])
    assert graph.assets_def_by_key == {AssetKey("x"): xy, AssetKey("y"): xy}
    assert graph.assets_defs == [xy]


def test_toposorted_keys_put_upstream_first() -> None:
    @dg.asset
    def c(b: int) -> int:
        return b

    @dg.asset
    def b(a: int) -> int:
        return a

    @dg.asset
    def a() -> int:
        return 1

    graph = AssetGraph([c, b, a])
    assert graph.toposorted_keys() == [AssetKey("a"), AssetKey("b"), AssetKey("c")]
    assert graph.toposorted_keys([AssetKey("c"), AssetKey("a")]) == [AssetKey("a"), AssetKey("c")]


def test_a_five_thousand_deep_chain_resolves_without_recursion() -> None:
    depth = 5_000
    specs = [dg.AssetSpec(f"n{i:05d}", deps=[f"n{i - 1:05d}"] if i else None) for i in range(depth)]

    graph = dg.Definitions(assets=specs).resolve_asset_graph()

    order = graph.toposorted_keys()
    assert len(order) == depth
    assert order[0] == AssetKey("n00000")
    assert order[-1] == AssetKey(f"n{depth - 1:05d}")

"""`KeyGraph`: parents, children, walks, dependency order and cycles, without recursion."""

from __future__ import annotations

import pytest

from bakehouse.graph.dag import KeyGraph, NodeInfo

DEEP = 5_000  # well past Python's default recursion limit of 1,000


def _graph(edges: dict[str, tuple[str, ...]]) -> KeyGraph:
    return KeyGraph(NodeInfo(key=k, parents=ps) for k, ps in edges.items())


def _chain(length: int) -> list[NodeInfo]:
    return [
        NodeInfo(key=f"n{i:05d}", parents=(f"n{i - 1:05d}",) if i else ()) for i in range(length)
    ]


DIAMOND = {"a": (), "b": ("a",), "c": ("a",), "d": ("b", "c"), "e": ()}


def test_children_are_derived_from_parents() -> None:
    graph = _graph(DIAMOND)
    assert graph.children["a"] == {"b", "c"}
    assert graph.children["d"] == set()
    assert graph.parents("d") == ("b", "c")
    assert graph.parents("not-a-node") == ()


def test_upstream_and_downstream_with_and_without_depth() -> None:
    graph = _graph(DIAMOND)
    assert graph.upstream(["d"]) == {"a", "b", "c", "d"}
    assert graph.upstream(["d"], depth=1) == {"b", "c", "d"}
    assert graph.downstream(["a"]) == {"a", "b", "c", "d"}
    assert graph.downstream(["a"], depth=1) == {"a", "b", "c"}
    assert graph.downstream(["e"]) == {"e"}


def test_toposort_puts_parents_first_and_breaks_ties_by_key() -> None:
    order = _graph({"z": (), "y": ("z",), "a": (), "m": ("a", "y")}).toposort()
    assert order == ["a", "z", "y", "m"]


def test_toposort_of_a_subset_ignores_edges_leaving_it() -> None:
    assert _graph(DIAMOND).toposort(["d", "b"]) == ["b", "d"]


def test_find_cycle_returns_the_keys_in_data_flow_order() -> None:
    # c reads b, b reads a, a reads c: data flows a -> b -> c -> a.
    graph = _graph({"a": ("c",), "b": ("a",), "c": ("b",), "free": ()})
    cycle = graph.find_cycle()
    assert sorted(cycle) == ["a", "b", "c"]
    start = cycle.index("a")
    assert cycle[start:] + cycle[:start] == ["a", "b", "c"]


def test_find_cycle_is_empty_for_a_dag_and_toposort_names_a_cycle() -> None:
    assert _graph(DIAMOND).find_cycle() == []
    with pytest.raises(ValueError, match=r"a -> b|b -> a"):
        _graph({"a": ("b",), "b": ("a",)}).toposort()


def test_a_self_dependency_is_a_cycle() -> None:
    assert _graph({"a": ("a",)}).find_cycle() == ["a"]


def test_levels_count_the_longest_path_from_a_root() -> None:
    assert dict(_graph(DIAMOND).levels()) == {"a": 0, "b": 1, "c": 1, "d": 2, "e": 0}


def test_a_deep_chain_sorts_walks_and_finds_no_cycle_without_recursion() -> None:
    graph = KeyGraph(_chain(DEEP))
    order = graph.toposort()
    assert order == [f"n{i:05d}" for i in range(DEEP)]
    assert graph.find_cycle() == []
    assert len(graph.upstream([order[-1]])) == DEEP
    assert len(graph.downstream([order[0]])) == DEEP
    assert graph.levels()[order[-1]] == DEEP - 1


def test_a_cycle_closing_a_deep_chain_is_found_whole() -> None:
    nodes = _chain(DEEP)
    nodes[0] = NodeInfo(key=nodes[0].key, parents=(nodes[-1].key,))
    graph = KeyGraph(nodes)
    cycle = graph.find_cycle()
    assert len(cycle) == DEEP
    with pytest.raises(ValueError, match="n04999 -> n00000") as err:
        graph.toposort()
    message = str(err.value)
    assert message.count(" -> ") == DEEP - 1

"""The lineage layout: left to right by dependency, boxed by location and group, few crossings."""

from __future__ import annotations

import itertools
import random

import pytest

from bakehouse.web import layout as layout_module
from bakehouse.web.layout import NODE_HEIGHT, NODE_WIDTH, GraphLayout, NodeSpec, layout_graph


def _layered(n: int, width: int = 10) -> list[NodeSpec]:
    """`n` nodes in layers of `width`; each takes two nodes of the layer before."""
    specs = []
    for i in range(n):
        layer, j = divmod(i, width)
        parents = (
            ()
            if layer == 0
            else tuple(f"n{(layer - 1) * width + k}" for k in sorted({j, (j + 1) % width}))
        )
        specs.append(NodeSpec(f"n{i}", "loc", "default", parents))
    return specs


def _random(n: int, seed: int = 7) -> list[NodeSpec]:
    rng = random.Random(seed)
    return [
        NodeSpec(
            f"k{i}",
            f"loc{i % 4}",
            f"g{(i // 5) % 3}",
            tuple(f"k{rng.randrange(i)}" for _ in range(rng.randint(0, 3))) if i else (),
        )
        for i in range(n)
    ]


def _overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


def _crossings(layout: GraphLayout) -> int:
    """Pairs of edges between the same two columns whose ends are in opposite orders."""
    nodes = layout.nodes
    by_columns: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for p, c in layout.edges:
        by_columns.setdefault((nodes[p].layer, nodes[c].layer), []).append((nodes[p].y, nodes[c].y))
    return sum(
        1
        for edges in by_columns.values()
        for (a0, a1), (b0, b1) in itertools.combinations(edges, 2)
        if (a0 - b0) * (a1 - b1) < 0
    )


def test_every_edge_runs_left_to_right_and_a_chain_runs_straight() -> None:
    chain = [NodeSpec(f"a{i}", "loc", "g", (f"a{i - 1}",) if i else ()) for i in range(20)]
    layout = layout_graph(chain)
    assert [n.layer for n in layout.nodes] == list(range(20))
    assert len({n.y for n in layout.nodes}) == 1
    for p, c in layout.edges:
        assert layout.nodes[c].x >= layout.nodes[p].x + NODE_WIDTH


def test_a_node_sits_one_column_right_of_its_furthest_parent() -> None:
    specs = [
        NodeSpec("a", "l", "g"),
        NodeSpec("b", "l", "g", ("a",)),
        NodeSpec("c", "l", "g", ("b",)),
        NodeSpec("d", "l", "g", ("a", "c")),
        NodeSpec("e", "l", "g", ("missing",)),  # a parent outside the graph is ignored
    ]
    layers = {n.key: n.layer for n in layout_graph(specs).nodes}
    assert layers == {"a": 0, "b": 1, "c": 2, "d": 3, "e": 0}


def test_nodes_never_overlap_and_stay_inside_their_group_and_location_boxes() -> None:
    layout = layout_graph(_random(300))
    rects = [(n.x, n.y, NODE_WIDTH, NODE_HEIGHT) for n in layout.nodes]
    for a, b in itertools.combinations(rects, 2):
        assert not _overlaps(a, b)
    lanes = {(b.location, b.group): b for b in layout.lanes}
    locations = {b.location: b for b in layout.locations}
    assert len(lanes) == 12
    assert len(locations) == 4
    for n in layout.nodes:
        for box in (lanes[(n.location, n.group)], locations[n.location]):
            assert box.x <= n.x
            assert n.x + NODE_WIDTH <= box.x + box.width
            assert box.y <= n.y
            assert n.y + NODE_HEIGHT <= box.y + box.height
    for boxes in (layout.locations, layout.lanes):
        for one, other in itertools.combinations(boxes, 2):
            assert not _overlaps(
                (one.x, one.y, one.width, one.height), (other.x, other.y, other.width, other.height)
            )


def test_locations_whose_columns_do_not_overlap_share_a_row() -> None:
    specs = [
        NodeSpec("raw", "ingest", "raw"),
        NodeSpec("clean", "transform", "clean", ("raw",)),
        NodeSpec("report", "bi", "reports", ("clean",)),
    ]
    layout = layout_graph(specs)
    assert len({b.y for b in layout.locations}) == 1
    assert len({n.y for n in layout.nodes}) == 1


def test_barycenter_ordering_removes_avoidable_crossings(monkeypatch: pytest.MonkeyPatch) -> None:
    # By key, x would sit above y, and each edge would cross the other.
    specs = [
        NodeSpec("a", "l", "g"),
        NodeSpec("b", "l", "g"),
        NodeSpec("x", "l", "g", ("b",)),
        NodeSpec("y", "l", "g", ("a",)),
    ]
    assert _crossings(layout_graph(specs)) == 0
    ordered = _crossings(layout_graph(_layered(200)))
    monkeypatch.setattr(layout_module, "SWEEPS", 0)
    unordered = _crossings(layout_graph(_layered(200)))
    assert ordered < unordered * 0.6


def test_a_cycle_is_laid_out_instead_of_refused() -> None:
    specs = [
        NodeSpec("a", "l", "g", ("b",)),
        NodeSpec("b", "l", "g", ("a",)),
        NodeSpec("c", "l", "g"),
    ]
    layout = layout_graph(specs)
    assert {n.key for n in layout.nodes} == {"a", "b", "c"}


def test_5000_assets_are_all_placed_without_overlap() -> None:
    # How fast this is lives in bench/ui_bench.py (the `layout` row), not in a timed test.
    for specs in (_layered(5000, width=500), _random(5000)):
        layout = layout_graph(specs)
        assert len(layout.nodes) == 5000
        assert len({(n.x, n.y) for n in layout.nodes}) == 5000
    data = layout.to_json()
    assert len(data["nodes"]) == 5000
    assert data["edges"]
    assert isinstance(data["edges"][0], tuple)

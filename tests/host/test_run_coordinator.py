"""Cutting a run's selection into per-location phases."""

from __future__ import annotations

from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.host.run_coordinator import Phase, plan_phases
from bakehouse.protocol.snapshot import AssetNodeSnap, LocationSnap


def _loc(name: str, *assets: tuple[str, tuple[str, ...]]) -> LocationSnap:
    nodes = tuple(AssetNodeSnap(key=k, deps=d, step_key=k) for k, d in assets)
    return LocationSnap(name=name, assets=nodes)


def test_one_location_is_one_phase() -> None:
    graph = GlobalAssetGraph([_loc("a", ("x", ()), ("y", ("x",)), ("z", ("y",)))])
    assert plan_phases(graph, ["z", "x", "y"]) == [Phase("a", ("x", "y", "z"))]


def test_phases_alternate_only_where_dependencies_cross_locations() -> None:
    # a1 -> b1 -> a2, and a3 independent: a3 joins the first phase of location a.
    graph = GlobalAssetGraph(
        [
            _loc("a", ("a1", ()), ("a2", ("b1",)), ("a3", ())),
            _loc("b", ("b1", ("a1",))),
        ]
    )
    phases = plan_phases(graph, ["a1", "a2", "a3", "b1"])
    assert phases == [Phase("a", ("a1", "a3")), Phase("b", ("b1",)), Phase("a", ("a2",))]


def test_an_external_placeholder_resolves_to_the_location_that_defines_it() -> None:
    upstream = _loc("up", ("raw", ()))
    downstream = LocationSnap(
        name="down",
        assets=(
            AssetNodeSnap(key="clean", deps=("raw",), step_key="clean"),
            AssetNodeSnap(key="raw", is_external=True, is_undefined=True),
        ),
    )
    graph = GlobalAssetGraph([downstream, upstream])
    assert graph.location_of("raw") == "up"
    assert graph.select("+clean") == ["raw", "clean"]
    assert plan_phases(graph, ["raw", "clean"]) == [
        Phase("up", ("raw",)),
        Phase("down", ("clean",)),
    ]

"""The execution plan: one step per definition, in dependency order, refusing what cannot run."""

from __future__ import annotations

import pytest

import bakehouse as dg
from bakehouse.errors import ExecutionError
from bakehouse.execution.plan import build_plan
from bakehouse.graph.keys import AssetKey


@dg.asset
def a() -> int:
    return 1


@dg.multi_asset(outs={"b1": dg.AssetOut(), "b2": dg.AssetOut()})
def b(a: int) -> tuple[int, int]:
    return a, a


@dg.multi_asset(outs={"c1": dg.AssetOut(), "c2": dg.AssetOut()}, can_subset=True)
def c(a: int) -> tuple[int, int]:
    return a, a


@dg.asset
def d(b2: int, c1: int) -> int:
    return b2 + c1


EXT = dg.AssetSpec("ext")


@dg.asset(deps=[EXT])
def uses_ext() -> int:
    return 1


GRAPH = dg.Definitions(assets=[d, c, b, a, EXT, uses_ext]).resolve_asset_graph()


def keys(*names: str) -> list[AssetKey]:
    return [AssetKey(n) for n in names]


def test_steps_follow_dependencies_and_know_their_upstream_steps() -> None:
    plan = build_plan(GRAPH, keys("d", "c1", "b2", "a"))

    order = [s.key for s in plan.steps]
    assert order.index("a") < order.index("b") < order.index("d")
    assert order.index("c") < order.index("d")
    upstream = {s.key: s.upstream_steps for s in plan.steps}
    assert upstream == {"a": (), "b": ("a",), "c": ("a",), "d": ("b", "c")}
    assert plan.downstream_of("a") == {"b", "c", "d"}
    assert plan.downstream_of("d") == set()


def test_a_multi_asset_that_cannot_subset_runs_whole() -> None:
    plan = build_plan(GRAPH, keys("b1"))
    assert [(s.key, s.keys) for s in plan.steps] == [("b", (AssetKey("b1"), AssetKey("b2")))]
    assert plan.asset_keys == keys("b1", "b2")


def test_a_subsettable_multi_asset_runs_only_what_is_selected() -> None:
    plan = build_plan(GRAPH, keys("c2"))
    assert [(s.key, s.keys) for s in plan.steps] == [("c", (AssetKey("c2"),))]


def test_steps_outside_the_selection_are_not_waited_for() -> None:
    plan = build_plan(GRAPH, keys("d"))
    assert [(s.key, s.upstream_steps) for s in plan.steps] == [("d", ())]


def test_external_and_unknown_keys_are_refused_by_name() -> None:
    with pytest.raises(ExecutionError, match="cannot materialize 'ext': it is an external asset"):
        build_plan(GRAPH, keys("ext"))
    with pytest.raises(ExecutionError, match="cannot materialize 'nope': it is not defined here"):
        build_plan(GRAPH, keys("nope"))


def _plan_of(*assets: dg.AssetsDefinition) -> list[str]:
    return [k.to_user_string() for a_ in assets for k in a_.keys]


def test_chain_successors_are_the_steps_one_step_alone_makes_ready() -> None:
    @dg.asset
    def root() -> int:
        return 1

    @dg.asset
    def left(root: int) -> int:  # root has two children: neither is its chain successor
        return root

    @dg.asset
    def right(root: int) -> int:
        return root

    @dg.asset
    def joined(left: int, right: int) -> int:  # waits for two steps: no one's successor
        return left + right

    @dg.asset
    def tail(joined: int) -> int:  # joined's only child, waiting for joined alone
        return joined

    @dg.asset
    def end(tail: int) -> int:
        return tail

    assets = [root, left, right, joined, tail, end]
    graph = dg.Definitions(assets=assets).resolve_asset_graph()
    plan = build_plan(graph, [AssetKey.from_user_string(k) for k in _plan_of(*assets)])
    assert plan.chain_successors() == {"joined": "tail", "tail": "end"}


def test_a_blocking_check_between_two_steps_makes_no_chain() -> None:
    @dg.asset
    def src() -> int:
        return 1

    @dg.asset_check(asset=src, blocking=True)
    def src_ok() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    @dg.asset
    def dst(src: int) -> int:
        return src

    graph = dg.Definitions(assets=[src, dst], asset_checks=[src_ok]).resolve_asset_graph()
    plan = build_plan(graph, [AssetKey(["src"]), AssetKey(["dst"])])
    # src makes two steps ready (its check, and dst once the check passed): no chain; dst waits
    # for src and for the check, so it follows neither.
    assert [(s.key, s.upstream_steps) for s in plan.steps] == [
        ("src", ()),
        ("src_src_ok", ("src",)),
        ("dst", ("src", "src_src_ok")),
    ]
    assert plan.chain_successors() == {}

"""`@multi_asset_check`, `AssetSelection` of checks, checks run without their asset (loading
its stored value), and the run's partition on a check's evaluation: through `materialize` and
through a real run worker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import bakehouse as dg
from bakehouse.errors import DefinitionError, ExecutionError
from bakehouse.storage import Instance
from bakehouse.storage.records import EventType
from tests.execution.test_multiprocess import run_project


@dg.asset
def orders() -> list[int]:
    return [5, 7, 9]


@dg.asset
def refunds() -> list[int]:
    return [1]


@dg.asset
def report(orders: list[int]) -> int:
    return sum(orders)


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec("has_orders", asset=orders),
        dg.AssetCheckSpec("few_refunds", asset=refunds, blocking=True),
    ],
    ins={"orders": dg.AssetIn(key="orders"), "refunds": "refunds"},
)
def quality(orders: list[int], refunds: list[int]) -> Iterator[dg.AssetCheckResult]:
    yield dg.AssetCheckResult(asset_key="orders", check_name="has_orders", passed=bool(orders))
    yield dg.AssetCheckResult(
        asset_key="refunds", check_name="few_refunds", passed=len(refunds) < 1
    )


def _evaluations(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {str(e.asset_check_key): e.passed for e in result.get_asset_check_evaluations()}


def test_a_multi_asset_check_runs_once_and_records_each_result() -> None:
    result = dg.materialize([orders, refunds, report, quality], raise_on_error=False)
    assert _evaluations(result) == {"orders:has_orders": True, "refunds:few_refunds": False}
    steps = [e.step_key for e in result.all_events if e.event_type == EventType.STEP_START]
    assert steps.count("quality") == 1
    # The failed check is blocking, of refunds: report (downstream of orders only) still runs.
    assert result.output_for_node("report") == 21


def test_a_multi_asset_check_parameter_outside_ins_loads_the_asset_it_is_named_after() -> None:
    @dg.multi_asset_check(specs=[dg.AssetCheckSpec("c", asset="orders")])
    def named(orders: list[int]) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    assert named.params.inputs == {"orders": dg.AssetKey("orders")}


def test_multi_asset_check_refuses_a_spec_given_twice() -> None:
    spec = dg.AssetCheckSpec("c", asset="orders")
    with pytest.raises(DefinitionError, match="is in specs twice"):

        @dg.multi_asset_check(specs=[spec, spec])
        def twice() -> None: ...


@dg.multi_asset_check(
    specs=[dg.AssetCheckSpec("one", asset=orders), dg.AssetCheckSpec("two", asset=orders)],
    can_subset=True,
)
def subsettable(context: dg.AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
    for key in sorted(context.selected_asset_check_keys):
        yield dg.AssetCheckResult(asset_key=key.asset_key, check_name=key.name, passed=True)


@dg.multi_asset_check(
    specs=[dg.AssetCheckSpec("three", asset=orders), dg.AssetCheckSpec("four", asset=orders)]
)
def whole(context: dg.AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
    for key in sorted(context.selected_asset_check_keys):
        yield dg.AssetCheckResult(asset_key=key.asset_key, check_name=key.name, passed=True)


def test_can_subset_runs_only_the_selected_checks_else_all_of_them() -> None:
    one = dg.AssetCheckKey(dg.AssetKey("orders"), "one")
    three = dg.AssetCheckKey(dg.AssetKey("orders"), "three")
    result = dg.materialize(
        [orders, subsettable, whole], selection=dg.AssetSelection.checks(one, three)
    )
    assert _evaluations(result) == {
        "orders:one": True,
        "orders:three": True,
        "orders:four": True,
    }


def test_selection_of_checks_alone_loads_the_stored_asset(tmp_path: Path) -> None:
    @dg.asset_check(asset=orders)
    def positive(orders: list[int]) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=all(o > 0 for o in orders), metadata={"n": len(orders)})

    with Instance.open(f"sqlite:///{tmp_path / 'db.sqlite'}", storage_dir=tmp_path) as instance:
        dg.materialize([orders], instance=instance)
        result = dg.materialize(
            [orders, report, positive],
            selection=dg.AssetSelection.checks(positive),
            instance=instance,
        )
    assert result.success
    started = [e.step_key for e in result.all_events if e.event_type == EventType.STEP_START]
    assert started == ["orders_positive"]
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.passed
    assert evaluation.metadata["n"].value == 3


def test_asset_selection_of_checks_follows_dagster() -> None:
    @dg.asset_check(asset=orders)
    def a(orders: list[int]) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    @dg.asset_check(asset=report)
    def b(report: int) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    defs = dg.Definitions(assets=[orders, report], asset_checks=[a, b])
    graph = defs.resolve_asset_graph()

    def resolved(selection: dg.AssetSelection) -> tuple[set[str], set[str]]:
        checks = selection.resolve_checks(graph.key_graph, graph.check_specs)
        return selection.resolve(graph.key_graph), {str(c) for c in checks}

    assert resolved(dg.AssetSelection.assets(orders)) == ({"orders"}, {"orders:a"})
    assert resolved(dg.AssetSelection.all().without_checks()) == ({"orders", "report"}, set())
    assert resolved(dg.AssetSelection.all_asset_checks()) == (set(), {"orders:a", "report:b"})
    assert resolved(dg.AssetSelection.checks_for_assets(report)) == (set(), {"report:b"})
    assert resolved(dg.AssetSelection.checks(a) | dg.AssetSelection.assets(report)) == (
        {"report"},
        {"orders:a", "report:b"},
    )
    assert resolved(dg.AssetSelection.all() - dg.AssetSelection.checks(b)) == (
        {"orders", "report"},
        {"orders:a"},
    )
    missing = dg.AssetSelection.checks(dg.AssetCheckKey(dg.AssetKey("orders"), "nope"))
    with pytest.raises(Exception, match=r"unknown asset checks: \['orders:nope'\]"):
        resolved(missing)


def test_a_check_in_a_partitioned_run_records_the_partition() -> None:
    daily = dg.StaticPartitionsDefinition(["a", "b"])

    @dg.asset(partitions_def=daily)
    def sales(context: dg.AssetExecutionContext) -> str:
        return context.partition_key

    @dg.asset_check(asset=sales)
    def seen(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True, metadata={"partition": context.partition_key})

    result = dg.materialize([sales, seen], partition_key="b")
    [event] = [e for e in result.all_events if e.event_type == EventType.ASSET_CHECK_EVALUATION]
    assert event.partition_key == "b"
    assert event.data["metadata"]["partition"]["value"] == "b"


JOBS = """
@dg.asset
def orders() -> list[int]:
    return [5, 7, 9]

@dg.asset
def report(orders: list[int]) -> int:
    return sum(orders)

@dg.multi_asset_check(
    specs=[dg.AssetCheckSpec("small", asset="orders"), dg.AssetCheckSpec("big", asset="report")],
    ins={"orders": "orders", "report": "report"},
)
def quality(orders: list[int], report: int):
    yield dg.AssetCheckResult(asset_key="orders", check_name="small", passed=len(orders) < 5)
    yield dg.AssetCheckResult(asset_key="report", check_name="big", passed=report > 100)

defs = dg.Definitions(
    assets=[orders, report],
    asset_checks=[quality],
    jobs=[
        dg.define_asset_job("everything", selection=dg.AssetSelection.all()),
        dg.define_asset_job("no_checks", selection=dg.AssetSelection.all().without_checks()),
        dg.define_asset_job("checks_only", selection=dg.AssetSelection.checks(quality)),
    ],
)
"""


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_jobs_select_checks_in_a_real_run_worker(tmp_path: Path) -> None:
    done = run_project(tmp_path, JOBS, job_name="everything", selection_query=None)
    assert done.code == 0, done.output
    evaluations = {
        (e.asset_key, e.data["check_name"]): e.data["passed"]
        for e in done.of_type(EventType.ASSET_CHECK_EVALUATION)
    }
    assert evaluations == {("orders", "small"): True, ("report", "big"): False}

    done = run_project(tmp_path, JOBS, job_name="no_checks", selection_query=None)
    assert done.code == 0, done.output
    assert done.of_type(EventType.ASSET_CHECK_EVALUATION) == []

    # Checks alone: the step loads both assets' values stored by the first run.
    done = run_project(tmp_path, JOBS, job_name="checks_only", selection_query=None)
    assert done.code == 0, done.output
    assert done.steps(EventType.STEP_START) == ["quality"]
    assert len(done.of_type(EventType.ASSET_CHECK_EVALUATION)) == 2


def test_materialize_refuses_a_check_evaluated_by_an_asset_step_alone() -> None:
    @dg.asset(check_specs=[dg.AssetCheckSpec("inside", asset="totals")])
    def totals() -> dg.MaterializeResult:
        return dg.MaterializeResult(check_results=[dg.AssetCheckResult(passed=True)])

    key = dg.AssetCheckKey(dg.AssetKey("totals"), "inside")
    with pytest.raises(ExecutionError, match="the asset's function evaluates it"):
        dg.materialize([totals], selection=dg.AssetSelection.checks(key))

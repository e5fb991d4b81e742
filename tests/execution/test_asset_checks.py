"""Executing asset checks: a check is its own step after its asset (or part of the asset's step
for check_specs); its result is an ASSET_CHECK_EVALUATION event; a check that raises fails its
step with the user's traceback; a failed blocking check skips what is downstream, as in Dagster.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import bakehouse as dg
from bakehouse.errors import ExecutionError
from bakehouse.storage import Instance
from bakehouse.storage.records import EventType
from tests.execution.test_multiprocess import run_project


@dg.asset
def orders() -> list[int]:
    return [5, 7, 9]


@dg.asset
def report(orders: list[int]) -> int:
    return sum(orders)


def test_a_passing_check_records_its_evaluation_with_metadata() -> None:
    @dg.asset_check(asset=orders, description="orders has rows")
    def has_rows(orders: list[int]) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=len(orders) > 0, metadata={"rows": len(orders)})

    result = dg.materialize([orders, has_rows])
    assert result.success
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.asset_check_key == dg.AssetCheckKey(dg.AssetKey("orders"), "has_rows")
    assert evaluation.passed
    assert evaluation.severity is dg.AssetCheckSeverity.ERROR
    assert evaluation.metadata == {"rows": dg.MetadataValue.int(3)}
    steps = [e.step_key for e in result.all_events if e.event_type == EventType.STEP_SUCCESS]
    assert steps == ["orders", "orders_has_rows"]  # its own step, after its asset's


def test_the_check_reads_the_value_through_the_io_manager(tmp_path: Path) -> None:
    loaded: list[dg.AssetKey] = []

    class Recording(dg.InMemoryIOManager):
        def load_input(self, context: dg.InputContext) -> object:
            loaded.append(context.asset_key)
            return super().load_input(context)

    @dg.asset_check(asset=orders)
    def big_enough(context: dg.AssetCheckExecutionContext, rows: list[int]) -> dg.AssetCheckResult:
        context.log.info(f"checking {len(rows)} rows")
        return dg.AssetCheckResult(passed=min(rows) > 1)

    result = dg.materialize([orders, big_enough], resources={"io_manager": Recording()})
    assert loaded == [dg.AssetKey("orders")]
    assert [e.passed for e in result.get_asset_check_evaluations()] == [True]
    logs = [e.message for e in result.all_events if e.event_type == EventType.LOG]
    assert "checking 3 rows" in logs


def test_a_failed_check_is_recorded_and_downstream_still_runs() -> None:
    @dg.asset_check(asset=orders)
    def tiny(orders: list[int]) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(
            passed=False, severity=dg.AssetCheckSeverity.WARN, description="too many"
        )

    result = dg.materialize([orders, tiny, report])
    assert result.success
    [evaluation] = result.get_asset_check_evaluations()
    assert (evaluation.passed, evaluation.severity, evaluation.description) == (
        False,
        dg.AssetCheckSeverity.WARN,
        "too many",
    )
    assert result.asset_value("report") == 21


def test_a_failed_blocking_check_skips_downstream_and_fails_the_run() -> None:
    @dg.asset_check(asset=orders, blocking=True)
    def tiny(orders: list[int]) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=len(orders) < 2)

    result = dg.materialize([orders, tiny, report], raise_on_error=False)
    assert not result.success
    assert result.failed_steps == ["orders_tiny"]
    assert result.skipped_steps == ["report"]
    [failure] = [e for e in result.all_events if e.event_type == EventType.STEP_FAILURE]
    assert failure.data["error"]["message"].endswith(
        "1 blocking asset check failed with ERROR severity:\norders: tiny"
    )
    assert failure.asset_key is None  # the check ran: its evaluation is its latest result
    assert [e.passed for e in result.get_asset_check_evaluations()] == [False]


def test_a_blocking_check_failing_with_warn_severity_blocks_nothing() -> None:
    @dg.asset_check(asset=orders, blocking=True)
    def tiny(orders: list[int]) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN)

    result = dg.materialize([orders, tiny, report])
    assert result.success
    assert result.asset_value("report") == 21


def test_a_check_that_raises_fails_its_step_with_the_users_traceback() -> None:
    @dg.asset_check(asset=orders)
    def broken(orders: list[int]) -> dg.AssetCheckResult:
        raise ValueError("no warehouse")

    result = dg.materialize([orders, broken, report], raise_on_error=False)
    assert not result.success
    assert result.failed_steps == ["orders_broken"]
    assert result.get_asset_check_evaluations() == []
    assert result.asset_value("report") == 21  # not blocking: downstream runs
    [failure] = [e for e in result.all_events if e.event_type == EventType.STEP_FAILURE]
    assert failure.asset_key == "orders"
    assert failure.data["check_names"] == ["broken"]
    assert 'raise ValueError("no warehouse")' in "".join(failure.data["error"]["stack"])
    with pytest.raises(ValueError, match="no warehouse"):
        dg.materialize([orders, broken])


def test_a_check_does_not_run_when_its_asset_fails() -> None:
    ran: list[str] = []

    @dg.asset(name="orders")
    def failing_orders() -> list[int]:
        raise RuntimeError("source down")

    @dg.asset_check(asset="orders")
    def has_rows() -> dg.AssetCheckResult:
        ran.append("has_rows")
        return dg.AssetCheckResult(passed=True)

    result = dg.materialize([failing_orders, has_rows], raise_on_error=False)
    assert result.skipped_steps == ["orders_has_rows"]
    assert ran == []


def test_selecting_an_asset_runs_its_checks_and_only_its_checks() -> None:
    @dg.asset_check(asset=orders)
    def of_orders() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    @dg.asset_check(asset=report)
    def of_report() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    result = dg.materialize([orders, report, of_orders, of_report], selection="orders")
    assert [e.check_name for e in result.get_asset_check_evaluations()] == ["of_orders"]


def test_a_check_of_an_asset_not_defined_here_runs_on_its_own() -> None:
    @dg.asset_check(asset="elsewhere")
    def exists() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    result = dg.materialize([exists])
    assert [str(e.asset_check_key) for e in result.get_asset_check_evaluations()] == [
        "elsewhere:exists"
    ]


def test_a_result_for_another_asset_is_an_error_naming_the_step() -> None:
    @dg.asset_check(asset=orders)
    def confused() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True, asset_key="customers")

    with pytest.raises(ExecutionError, match="matches none of the checks it evaluates"):
        dg.materialize([orders, confused])


# -- checks evaluated by the asset's own step (check_specs) -------------------------------------


def test_check_specs_results_in_materialize_result() -> None:
    @dg.asset(check_specs=[dg.AssetCheckSpec("positive", asset="totals")])
    def totals() -> dg.MaterializeResult:
        return dg.MaterializeResult(
            metadata={"total": 3},
            check_results=[dg.AssetCheckResult(passed=True, metadata={"min": 1})],
        )

    result = dg.materialize([totals])
    [evaluation] = result.get_asset_check_evaluations()
    assert (str(evaluation.asset_check_key), evaluation.passed) == ("totals:positive", True)
    kinds = [e.event_type for e in result.all_events if e.step_key == "totals"]
    # One step: the materialization, then the check, then success.
    assert kinds[-3:] == [
        EventType.ASSET_MATERIALIZATION,
        EventType.ASSET_CHECK_EVALUATION,
        EventType.STEP_SUCCESS,
    ]


def test_check_specs_results_yielded_beside_the_output() -> None:
    @dg.asset(
        check_specs=[
            dg.AssetCheckSpec("not_empty", asset="totals"),
            dg.AssetCheckSpec("small", asset="totals", blocking=True),
        ]
    )
    def totals(orders: list[int]) -> Iterator[object]:
        yield dg.Output(sum(orders))
        yield dg.AssetCheckResult(check_name="not_empty", passed=bool(orders))
        yield dg.AssetCheckResult(check_name="small", passed=sum(orders) < 10)

    @dg.asset
    def after(totals: int) -> int:
        return totals

    result = dg.materialize([orders, totals, after], raise_on_error=False)
    assert {e.check_name: e.passed for e in result.get_asset_check_evaluations()} == {
        "not_empty": True,
        "small": False,
    }
    assert result.asset_value("totals") == 21  # materialized, then its blocking check failed
    assert result.failed_steps == ["totals"]
    assert result.skipped_steps == ["after"]


def test_multi_asset_check_specs_name_their_asset() -> None:
    @dg.multi_asset(
        specs=[dg.AssetSpec("left"), dg.AssetSpec("right")],
        check_specs=[
            dg.AssetCheckSpec("ok", asset="left"),
            dg.AssetCheckSpec("ok", asset="right"),
        ],
    )
    def both() -> Iterator[object]:
        yield dg.MaterializeResult(asset_key="left")
        yield dg.MaterializeResult(asset_key="right")
        yield dg.AssetCheckResult(asset_key="left", check_name="ok", passed=True)
        yield dg.AssetCheckResult(asset_key="right", check_name="ok", passed=False)

    result = dg.materialize([both])
    assert sorted(
        (str(e.asset_check_key), e.passed) for e in result.get_asset_check_evaluations()
    ) == [
        ("left:ok", True),
        ("right:ok", False),
    ]


def test_a_check_spec_left_without_result_fails_the_step_before_recording() -> None:
    @dg.asset(check_specs=[dg.AssetCheckSpec("positive", asset="totals")])
    def totals() -> int:
        return 3

    result = dg.materialize([totals], raise_on_error=False)
    [failure] = [e for e in result.all_events if e.event_type == EventType.STEP_FAILURE]
    assert "returned no AssetCheckResult for ['totals:positive']" in failure.message
    assert result.get_asset_materialization_events() == []


# -- jobs and the run worker ------------------------------------------------------------------


def test_a_job_runs_the_checks_of_the_assets_it_selects(tmp_path: Path) -> None:
    @dg.asset_check(asset=orders)
    def has_rows(orders: list[int]) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    defs = dg.Definitions(
        assets=[orders, report],
        asset_checks=[has_rows],
        jobs=[dg.define_asset_job("only_orders", selection="orders")],
    )
    with Instance.open(f"sqlite:///{tmp_path / 'db.sqlite'}") as instance:
        result = defs.resolve_job_def("only_orders").execute_in_process(instance=instance)
        [evaluation] = result.get_asset_check_evaluations()
        assert evaluation.check_name == "has_rows"
        # Stored like any event: another reader of the instance finds it by the asset's key.
        stored = instance.get_events(result.run_id, event_types=[EventType.ASSET_CHECK_EVALUATION])
        assert [(e.asset_key, e.data["passed"]) for e in stored] == [("orders", True)]


CHECKED = """
@dg.asset
def orders() -> list[int]:
    return [1, 2, 3]

@dg.asset_check(asset=orders, blocking=True)
def few(orders: list[int]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=len(orders) < 3, metadata={"rows": len(orders)})

@dg.asset
def report(orders: list[int]) -> int:
    return len(orders)

@dg.asset
def other() -> int:
    return 1

defs = dg.Definitions(
    assets=[orders, report, other],
    asset_checks=[few],
    executor=dg.multiprocess_executor.configured({"max_concurrent": 2}),
)
"""


@pytest.mark.slow
@pytest.mark.timeout(60)
@pytest.mark.parametrize("executor", ["multiprocess", "in_process"])
def test_the_run_worker_runs_checks_in_either_executor(tmp_path: Path, executor: str) -> None:
    done = run_project(tmp_path, CHECKED, executor=executor)
    assert done.code == 1, done.output
    [evaluation] = done.of_type(EventType.ASSET_CHECK_EVALUATION)
    assert (evaluation.step_key, evaluation.asset_key, evaluation.data["passed"]) == (
        "orders_few",
        "orders",
        False,
    )
    assert evaluation.data["metadata"] == {"rows": {"type": "int", "value": 3}}
    assert done.steps(EventType.STEP_SKIPPED) == ["report"]
    assert sorted(done.steps(EventType.STEP_SUCCESS)) == ["orders", "other"]

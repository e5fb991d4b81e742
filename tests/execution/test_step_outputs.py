"""A generator's outputs are stored and recorded as it yields them (`execution/step_outputs.py`):
one that yields A and then raises leaves A materialized and the step failed, and a yielded
materialization is in storage before the function goes on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import bakehouse as dg
from bakehouse.storage.records import EventType


def materialized(result: dg.ExecuteInProcessResult) -> list[str]:
    return [e.asset_key.to_user_string() for e in result.get_asset_materialization_events()]


def test_an_output_yielded_before_the_function_raises_is_stored_and_recorded(
    tmp_path: Path,
) -> None:
    @dg.multi_asset(outs={"a": dg.AssetOut(), "b": dg.AssetOut()})
    def first_then_boom() -> Iterator[dg.Output[int]]:
        yield dg.Output(1, output_name="a")
        raise RuntimeError("source went away")

    result = dg.materialize(
        [first_then_boom],
        resources={"io_manager": dg.FilesystemIOManager(base_dir=tmp_path)},
        raise_on_error=False,
    )

    assert not result.success
    assert materialized(result) == ["a"]
    assert (tmp_path / "a").is_file()
    assert not (tmp_path / "b").exists()
    kinds = [e.event_type for e in result.all_events if e.step_key == "first_then_boom"]
    # The materialization comes before the failure, in the order things happened.
    assert kinds.index(EventType.ASSET_MATERIALIZATION) < kinds.index(EventType.STEP_FAILURE)
    [failure] = [e for e in result.all_events if e.event_type == EventType.STEP_FAILURE]
    assert "source went away" in failure.message


def test_a_yielded_materialization_is_in_storage_while_the_function_runs() -> None:
    seen_while_running: list[bool] = []

    @dg.multi_asset(outs={"a": dg.AssetOut(), "b": dg.AssetOut()})
    def two_steps(context: dg.AssetExecutionContext) -> Iterator[dg.Output[int]]:
        yield dg.Output(1, output_name="a")
        event = context.instance.get_latest_materialization_event(dg.AssetKey("a"))
        seen_while_running.append(event is not None and event.run_id == context.run_id)
        yield dg.Output(2, output_name="b")

    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([two_steps], instance=instance)

    assert result.success
    assert seen_while_running == [True]
    assert materialized(result) == ["a", "b"]


def test_a_yielded_output_that_fails_its_type_check_stops_the_step_after_the_earlier_ones(
    tmp_path: Path,
) -> None:
    @dg.multi_asset(outs={"a": dg.AssetOut(dagster_type=int), "b": dg.AssetOut(dagster_type=int)})
    def second_is_wrong() -> Iterator[dg.Output[object]]:
        yield dg.Output(1, output_name="a")
        yield dg.Output("two", output_name="b")

    result = dg.materialize(
        [second_is_wrong],
        resources={"io_manager": dg.FilesystemIOManager(base_dir=tmp_path)},
        raise_on_error=False,
    )
    assert not result.success
    assert materialized(result) == ["a"]


def test_a_returned_answer_missing_a_check_result_records_nothing(tmp_path: Path) -> None:
    # Unlike a generator, a returned answer is checked whole before anything is recorded.
    @dg.asset(check_specs=[dg.AssetCheckSpec("positive", asset="counted")])
    def counted() -> dg.MaterializeResult:
        return dg.MaterializeResult(value=3)

    result = dg.materialize(
        [counted],
        resources={"io_manager": dg.FilesystemIOManager(base_dir=tmp_path)},
        raise_on_error=False,
    )
    assert not result.success
    assert materialized(result) == []
    assert not (tmp_path / "counted").exists()


def test_a_check_result_yielded_before_the_function_raises_is_recorded() -> None:
    # As a dbt build does: a test fails, dbt exits non-zero, the step fails; the failed check
    # must still show.
    @dg.multi_asset(
        specs=[dg.AssetSpec("orders")],
        check_specs=[dg.AssetCheckSpec("positive", asset="orders")],
    )
    def build() -> Iterator[object]:
        yield dg.MaterializeResult(asset_key="orders")
        yield dg.AssetCheckResult(passed=False, check_name="positive", metadata={"rows": 3})
        raise RuntimeError("dbt exited with 1")

    result = dg.materialize([build], raise_on_error=False)

    assert not result.success
    [evaluation] = result.get_asset_check_evaluations()
    assert (evaluation.asset_key, evaluation.check_name, evaluation.passed) == (
        dg.AssetKey("orders"),
        "positive",
        False,
    )
    assert evaluation.metadata["rows"] == 3


def test_a_subsettable_step_may_leave_a_selected_check_unanswered() -> None:
    checks = [dg.AssetCheckSpec("fresh", asset="a"), dg.AssetCheckSpec("fresh", asset="b")]

    @dg.multi_asset(
        specs=[dg.AssetSpec("a"), dg.AssetSpec("b")], check_specs=checks, can_subset=True
    )
    def partial(context: dg.AssetExecutionContext) -> Iterator[object]:
        assert context.selected_asset_check_keys == {c.key for c in checks}
        yield dg.MaterializeResult(asset_key="a")
        yield dg.AssetCheckResult(passed=True, asset_key="a", check_name="fresh")
        yield dg.MaterializeResult(asset_key="b")  # its check skipped, as dbt skips a test

    result = dg.materialize([partial])

    assert result.success
    assert [(e.asset_key, e.passed) for e in result.get_asset_check_evaluations()] == [
        (dg.AssetKey("a"), True)
    ]


def test_a_step_that_cannot_subset_must_answer_every_check() -> None:
    @dg.multi_asset(specs=[dg.AssetSpec("a")], check_specs=[dg.AssetCheckSpec("fresh", asset="a")])
    def forgetful() -> Iterator[object]:
        yield dg.MaterializeResult(asset_key="a")

    result = dg.materialize([forgetful], raise_on_error=False)

    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type == EventType.STEP_FAILURE]
    assert "returned no AssetCheckResult" in failure.message

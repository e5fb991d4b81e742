"""One step: what a function may return or yield, which values are stored, and its events."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import bakehouse as dg
from bakehouse.errors import ExecutionError
from bakehouse.execution.materialize import ExecuteInProcessResult
from bakehouse.graph.keys import AssetKey
from bakehouse.storage.records import EventType


def run(*assets: object, **kwargs: object) -> ExecuteInProcessResult:
    return dg.materialize_to_memory(list(assets), **kwargs)  # type: ignore[arg-type]


def events_of(result: ExecuteInProcessResult, step: str) -> list[EventType]:
    return [e.event_type for e in result.all_events if e.step_key == step]


def test_a_plain_value_is_stored_and_its_events_come_in_order() -> None:
    @dg.asset
    def source() -> int:
        return 2

    @dg.asset
    def double(source: int) -> int:
        return source * 2

    result = run(source, double)

    assert result.asset_value("double") == 4
    assert events_of(result, "double") == [
        EventType.STEP_START,
        EventType.STEP_INPUT,
        EventType.STEP_OUTPUT,
        EventType.ASSET_MATERIALIZATION,
        EventType.STEP_SUCCESS,
    ]


def test_output_metadata_added_metadata_and_io_manager_metadata_are_merged() -> None:
    @dg.asset
    def table(context: dg.AssetExecutionContext) -> dg.Output:
        context.add_output_metadata({"from_context": 1})
        return dg.Output([1, 2], metadata={"rows": 2})

    result = dg.materialize([table])

    metadata = result.metadata_for("table")
    assert metadata["rows"] == {"type": "int", "value": 2}
    assert metadata["from_context"] == {"type": "int", "value": 1}
    assert metadata["path"]["type"] == "path"
    assert result.asset_value("table") == [1, 2]


def test_a_materialize_result_records_without_storing_a_value() -> None:
    @dg.asset
    def written_elsewhere() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"rows": 10})

    result = run(written_elsewhere)

    assert result.metadata_for("written_elsewhere") == {"rows": {"type": "int", "value": 10}}
    assert EventType.STEP_OUTPUT not in events_of(result, "written_elsewhere")
    with pytest.raises(KeyError, match="produced no value in this run"):
        result.asset_value("written_elsewhere")


def test_a_generator_asset_yields_its_output() -> None:
    @dg.asset
    def generated() -> Iterator[dg.Output]:
        yield dg.Output(5, metadata={"n": 5})

    assert run(generated).asset_value("generated") == 5


def test_multi_asset_outs_take_a_tuple_in_order() -> None:
    @dg.multi_asset(outs={"first": dg.AssetOut(), "second": dg.AssetOut(key_prefix="p")})
    def pair() -> tuple[str, str]:
        return "one", "two"

    result = run(pair)
    assert result.asset_value("first") == "one"
    assert result.asset_value("p/second") == "two"


def test_multi_asset_outputs_by_name_and_optional_outputs() -> None:
    @dg.multi_asset(outs={"kept": dg.AssetOut(), "maybe": dg.AssetOut(is_required=False)})
    def partial(context: dg.AssetExecutionContext) -> Iterator[dg.Output]:
        context.add_output_metadata({"k": 1}, output_name="kept")
        yield dg.Output(1, output_name="kept")

    result = run(partial)
    assert result.asset_value("kept") == 1
    assert [e.asset_key for e in result.get_asset_materialization_events()] == [AssetKey("kept")]
    assert result.metadata_for("kept") == {"k": {"type": "int", "value": 1}}


def test_multi_asset_specs_yield_results_by_key() -> None:
    @dg.multi_asset(specs=[dg.AssetSpec("s1"), dg.AssetSpec("s2", deps=["s0"])])
    def both() -> Iterator[dg.MaterializeResult]:
        yield dg.MaterializeResult(asset_key="s2", metadata={"b": 2})
        yield dg.MaterializeResult(asset_key="s1", metadata={"a": 1})

    result = run(both)
    # Recorded as yielded (Dagster's order), not in the order of the specs.
    assert [str(e.asset_key) for e in result.get_asset_materialization_events()] == ["s2", "s1"]
    assert result.metadata_for("s2") == {"b": {"type": "int", "value": 2}}


@dg.multi_asset(outs={"x": dg.AssetOut(), "y": dg.AssetOut()})
def returns_one_value() -> int:
    return 1


@dg.multi_asset(outs={"x": dg.AssetOut(), "y": dg.AssetOut()})
def returns_three_values() -> tuple[int, int, int]:
    return 1, 2, 3


@dg.multi_asset(specs=[dg.AssetSpec("x"), dg.AssetSpec("y")])
def result_without_key() -> dg.MaterializeResult:
    return dg.MaterializeResult()


@dg.multi_asset(specs=[dg.AssetSpec("x"), dg.AssetSpec("y")])
def result_for_a_stranger() -> Iterator[dg.MaterializeResult]:
    yield dg.MaterializeResult(asset_key="z")


@dg.multi_asset(specs=[dg.AssetSpec("x"), dg.AssetSpec("y")])
def same_key_twice() -> Iterator[dg.MaterializeResult]:
    yield dg.MaterializeResult(asset_key="x")
    yield dg.MaterializeResult(asset_key="x")


@dg.multi_asset(specs=[dg.AssetSpec("x"), dg.AssetSpec("y")])
def forgets_one() -> Iterator[dg.MaterializeResult]:
    yield dg.MaterializeResult(asset_key="x")


@dg.multi_asset(outs={"x": dg.AssetOut(), "y": dg.AssetOut()})
def unknown_output_name() -> Iterator[dg.Output]:
    yield dg.Output(1, output_name="z")


@pytest.mark.parametrize(
    ("assets_def", "expected"),
    [
        (returns_one_value, "produced a value of type int; a multi-asset returns a tuple"),
        (returns_three_values, "a tuple with one value per output (x, y)"),
        (result_without_key, "give MaterializeResult(asset_key=...)"),
        (result_for_a_stranger, "returned a result for 'z', which it does not define"),
        (same_key_twice, "step 'same_key_twice' returned 'x' twice"),
        (forgets_one, "step 'forgets_one' did not produce ['y']"),
        (unknown_output_name, "yielded Output(output_name='z'); its outputs are ['x', 'y']"),
    ],
)
def test_results_that_do_not_match_the_declaration_fail_the_step(
    assets_def: dg.AssetsDefinition, expected: str
) -> None:
    result = run(assets_def, raise_on_error=False)
    assert result.failed_steps == [assets_def.op_name]
    failure = next(e for e in result.all_events if e.event_type == EventType.STEP_FAILURE)
    assert failure.data["error"]["cls_name"] == ExecutionError.__name__
    assert expected in failure.message


def test_context_log_lines_become_log_events_of_the_step() -> None:
    @dg.asset
    def chatty(context: dg.AssetExecutionContext) -> int:
        context.log.info("read %d rows", 3)
        context.log.warning("slow source")
        return 3

    result = run(chatty)

    logs = [(e.level, e.message) for e in result.all_events if e.event_type == EventType.LOG]
    assert logs == [("INFO", "read 3 rows"), ("WARNING", "slow source")]
    assert all(e.step_key == "chatty" for e in result.all_events if e.event_type == EventType.LOG)


def test_the_context_knows_its_run_keys_resources_and_tags() -> None:
    seen: dict[str, object] = {}

    class Api(dg.ConfigurableResource):
        url: str = "u"

    @dg.asset(key_prefix="p", required_resource_keys={"api"})
    def inspect(context: dg.AssetExecutionContext) -> int:
        seen.update(
            run_id=context.run_id,
            key=context.asset_key,
            step=context.step_key,
            url=context.resources.api.url,
            tags=context.run_tags,
        )
        return 1

    result = run(inspect, resources={"api": Api()}, tags={"team": "data"})

    assert seen == {
        "run_id": result.run_id,
        "key": AssetKey(["p", "inspect"]),
        "step": "p__inspect",
        "url": "u",
        "tags": {"team": "data"},
    }

"""Dagster's error classes and type checks, from the examples of Dagster's docs on Dagster
types, testing and config, run unchanged but for ``import bakehouse as dg``."""

from __future__ import annotations

from typing import Any

import pytest

import bakehouse as dg
from bakehouse._core import errors as core_errors
from bakehouse.storage.records import EventType

# -- the classes -------------------------------------------------------------------------------


def test_the_error_classes_are_one_hierarchy_under_dagster_error() -> None:
    for name in [
        "DagsterInvalidDefinitionError",
        "DagsterInvariantViolationError",
        "DagsterInvalidInvocationError",
        "DagsterInvalidConfigError",
        "DagsterTypeCheckDidNotPass",
        "DagsterExecutionStepExecutionError",
        "DagsterResourceFunctionError",
        "DagsterUnknownResourceError",
    ]:
        cls = getattr(dg, name)
        assert issubclass(cls, dg.DagsterError), name
        # The same class at Dagster's own path (dagster._core.errors).
        assert getattr(core_errors, name) is cls
    assert issubclass(dg.DagsterExecutionStepExecutionError, dg.DagsterUserCodeExecutionError)
    assert issubclass(dg.DagsterUnknownResourceError, AttributeError)


def test_bakehouse_errors_are_the_dagster_errors_of_their_meaning() -> None:
    assert issubclass(dg.BakehouseError, dg.DagsterError)
    assert issubclass(dg.DefinitionError, dg.DagsterInvalidDefinitionError)
    assert issubclass(dg.UnknownPartitionError, dg.DagsterUnknownPartitionError)


# -- raised where Dagster raises them ----------------------------------------------------------


def test_a_duplicate_asset_key_is_an_invalid_definition() -> None:
    @dg.asset(name="orders")
    def first() -> int:
        return 1

    @dg.asset(name="orders")
    def second() -> int:
        return 2

    with pytest.raises(dg.DagsterInvalidDefinitionError, match="duplicate asset key 'orders'"):
        dg.Definitions.validate_loadable(dg.Definitions(assets=[first, second]))


class MyAssetConfig(dg.Config):
    person_name: str


@dg.asset
def greeting(config: MyAssetConfig) -> str:
    return f"hello {config.person_name}"


def test_invalid_run_config_is_an_invalid_config_error() -> None:
    with pytest.raises(dg.DagsterInvalidConfigError, match="greeting"):
        dg.materialize([greeting], run_config={"ops": {"greeting": {"config": {"person_name": 3}}}})


def test_asking_for_a_resource_not_given_is_an_unknown_resource_error() -> None:
    @dg.asset(required_resource_keys={"database"})
    def uses_context(context: dg.AssetExecutionContext) -> None:
        context.resources.warehouse  # noqa: B018 - the lookup is the test

    with pytest.raises(dg.DagsterUnknownResourceError, match="no resource 'warehouse'"):
        dg.materialize([uses_context], resources={"database": "db"})


def test_a_resource_that_fails_to_set_up_is_a_resource_function_error() -> None:
    class Broken(dg.ConfigurableResource):
        def setup_for_execution(self, context: dg.InitResourceContext) -> None:
            raise ConnectionError("no route to host")

    @dg.asset
    def needs_it(broken: Broken) -> int:
        return 1

    with pytest.raises(dg.DagsterResourceFunctionError, match="no route to host") as err:
        dg.materialize([needs_it], resources={"broken": Broken()})
    assert isinstance(err.value.user_exception, ConnectionError)


def test_calling_an_asset_with_arguments_it_does_not_take_is_an_invalid_invocation() -> None:
    @dg.asset
    def plain(upstream: int) -> int:
        return upstream

    with pytest.raises(dg.DagsterInvalidInvocationError, match="plain"):
        plain(1, 2)


def test_a_failing_asset_raises_the_users_own_exception_from_materialize() -> None:
    # As Dagster's execute_in_process does with raise_on_error: the user's exception, not a
    # wrapper, so tests can match it.
    @dg.asset
    def boom() -> None:
        raise KeyError("missing column")

    with pytest.raises(KeyError, match="missing column"):
        dg.materialize([boom])


# -- type checks from annotations --------------------------------------------------------------


def test_a_value_not_matching_the_return_annotation_fails_the_type_check() -> None:
    @dg.asset
    def count() -> int:
        return "three"  # type: ignore[return-value]

    with pytest.raises(dg.DagsterTypeCheckDidNotPass, match='expected type "Int"'):
        dg.materialize([count])

    result = dg.materialize([count], raise_on_error=False)
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type == EventType.STEP_FAILURE]
    assert "DagsterTypeCheckDidNotPass" in failure.message
    assert not result.get_asset_materialization_events()


@pytest.mark.parametrize(
    ("annotation", "value"),
    [
        (int, 3),
        (float, 3),  # an int is a float, as type checkers say
        (dict, {"a": 1}),
        (list[dict[str, int]], [{"a": 1}]),
        (dict[str, list[int]], {"a": [1, 2]}),
        (int | None, None),
        (Any, object()),
        (dg.MaterializeResult, dg.MaterializeResult(metadata={"n": 1})),
        (None, 5),  # Dagster checks None as Nothing; bakehouse checks nothing (on purpose)
    ],
)
def test_values_that_match_their_annotation_pass(annotation: Any, value: Any) -> None:
    def produce() -> Any:
        return value

    produce.__annotations__["return"] = annotation
    assert dg.materialize([dg.asset(name="produced")(produce)]).success


@pytest.mark.parametrize(
    ("annotation", "value", "message"),
    [
        (str, 3, 'Value 3 of python type "int" must be a str'),
        (list[int], [1, "2"], "Item 1 of the list[int]"),
        (dict[str, int], {"a": "b"}, "Entry 'a' of the dict[str, int]"),
        (int | None, "x", "is not a"),
        (dg.Output[int], dg.Output("x"), 'expected type "Int"'),
    ],
)
def test_values_that_do_not_match_their_annotation_fail(
    annotation: Any, value: Any, message: str
) -> None:
    def produce() -> Any:
        return value

    produce.__annotations__["return"] = annotation
    with pytest.raises(dg.DagsterTypeCheckDidNotPass, match=message.replace("[", r"\[")):
        dg.materialize([dg.asset(name="produced")(produce)])


# -- DagsterType and dagster_type= -------------------------------------------------------------


def is_list_of_dicts(_: dg.TypeCheckContext, value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(element, dict) for element in value)


SimpleDataFrame = dg.DagsterType(
    name="SimpleDataFrame",
    type_check_fn=is_list_of_dicts,
    description="A naive representation of a data frame, e.g., as returned by csv.DictReader.",
)


def less_simple_data_frame_type_check(_: dg.TypeCheckContext, value: Any) -> dg.TypeCheck:
    if not isinstance(value, list):
        return dg.TypeCheck(
            success=False,
            description=f"LessSimpleDataFrame should be a list of dicts, got {type(value)}",
        )
    for i, row in enumerate(value):
        if not isinstance(row, dict):
            return dg.TypeCheck(
                success=False,
                description=f"LessSimpleDataFrame should be a list of dicts, got {type(row)} "
                f"for row {i + 1}",
            )
    return dg.TypeCheck(success=True, metadata={"row_count": len(value)})


LessSimpleDataFrame = dg.DagsterType(
    name="LessSimpleDataFrame", type_check_fn=less_simple_data_frame_type_check
)


def test_an_asset_checked_by_a_dagster_type_passes_and_fails_by_its_function() -> None:
    @dg.asset(dagster_type=SimpleDataFrame)
    def good_rows() -> list[dict[str, int]]:
        return [{"a": 1}]

    @dg.asset(dagster_type=LessSimpleDataFrame)
    def bad_rows() -> Any:
        return [{"a": 1}, "not a row"]

    assert dg.materialize([good_rows]).success
    with pytest.raises(
        dg.DagsterTypeCheckDidNotPass,
        match=r'expected type "LessSimpleDataFrame".*for row 2',
    ) as err:
        dg.materialize([bad_rows])
    assert err.value.dagster_type is LessSimpleDataFrame


def test_a_multi_asset_output_is_checked_by_its_asset_out_dagster_type() -> None:
    @dg.multi_asset(
        outs={
            "rows": dg.AssetOut(dagster_type=SimpleDataFrame),
            "count": dg.AssetOut(dagster_type=int),
        }
    )
    def split() -> tuple[Any, Any]:
        return [{"a": 1}], "one"

    with pytest.raises(dg.DagsterTypeCheckDidNotPass, match='output "count"'):
        dg.materialize([split])


def test_check_dagster_type_checks_a_value_outside_a_run() -> None:
    EvenDagsterType = dg.DagsterType(
        name="EvenDagsterType",
        type_check_fn=lambda _, value: isinstance(value, int) and value % 2 == 0,
    )
    assert dg.check_dagster_type(EvenDagsterType, 2).success
    assert not dg.check_dagster_type(EvenDagsterType, 3).success
    assert not dg.check_dagster_type(int, "3").success
    assert dg.check_dagster_type(dg.PythonObjectDagsterType(dict), {}).success


# -- ops: Out(dagster_type=) and return annotations --------------------------------------------


EvenDagsterType = dg.DagsterType(
    name="EvenDagsterType",
    type_check_fn=lambda _, value: isinstance(value, int) and value % 2 == 0,
)


def test_an_op_output_is_checked_by_its_out_dagster_type() -> None:
    @dg.op(out=dg.Out(EvenDagsterType))
    def double_even(num: int) -> int:
        return num

    @dg.op
    def three() -> int:
        return 3

    @dg.job
    def even_job() -> None:
        double_even(three())

    with pytest.raises(dg.DagsterTypeCheckDidNotPass, match="op 'double_even'"):
        even_job.execute_in_process()


def test_an_op_output_is_checked_by_its_return_annotation() -> None:
    @dg.op
    def says_int() -> int:
        return "not an int"  # type: ignore[return-value]

    @dg.job
    def annotated_job() -> None:
        says_int()

    result = annotated_job.execute_in_process(raise_on_error=False)
    assert not result.success

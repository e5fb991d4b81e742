"""A run: failures stay in their step and skip what depends on them, config is validated per
asset, resources open before the steps and close after them, and every event is recorded."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

import bakehouse as dg
from bakehouse.errors import DefinitionError, ExecutionError
from bakehouse.execution.events import EventWriter
from bakehouse.execution.run import execute_run
from bakehouse.graph.keys import AssetKey
from bakehouse.storage.records import EventRecord, EventType

BAKEHOUSE_SRC = str(Path(dg.__file__).parent)


@dg.asset
def source() -> int:
    return 1


@dg.asset
def broken(source: int) -> int:
    raise ValueError(f"bad input {source}")


_lines, _first = inspect.getsourcelines(broken.fn)
RAISE_LINE = _first + next(i for i, line in enumerate(_lines) if "raise ValueError" in line)


@dg.asset
def after_broken(broken: int) -> int:
    return broken


@dg.asset(deps=[after_broken])
def two_after_broken() -> int:
    return 2


@dg.asset(deps=[broken])
def ordered_after_broken() -> int:
    return 3


@dg.asset
def independent(source: int) -> int:
    return source + 1


FAILING = [source, broken, after_broken, two_after_broken, ordered_after_broken, independent]


def of_type(events: list[EventRecord], event_type: EventType) -> list[EventRecord]:
    return [e for e in events if e.event_type == event_type]


def test_a_failing_step_records_the_users_traceback_without_our_frames() -> None:
    result = dg.materialize(FAILING, raise_on_error=False)

    [failure] = of_type(result.all_events, EventType.STEP_FAILURE)
    assert failure.step_key == "broken"
    assert failure.level == "ERROR"
    error = failure.data["error"]
    assert error["cls_name"] == "ValueError"
    assert error["message"] == "ValueError: bad input 1"
    stack = "".join(error["stack"])
    assert f'File "{__file__}", line {RAISE_LINE}, in broken' in stack
    assert 'raise ValueError(f"bad input {source}")' in stack
    assert BAKEHOUSE_SRC not in stack
    assert failure.message == "Execution of step 'broken' failed: ValueError: bad input 1"


def test_downstream_is_skipped_independent_branches_run_and_the_run_fails() -> None:
    result = dg.materialize(FAILING, raise_on_error=False)

    assert not result.success
    assert result.failed_steps == ["broken"]
    assert sorted(result.skipped_steps) == [
        "after_broken",
        "ordered_after_broken",
        "two_after_broken",
    ]
    skipped = {e.step_key: e for e in of_type(result.all_events, EventType.STEP_SKIPPED)}
    assert skipped["after_broken"].data == {"upstream": "broken"}
    assert skipped["two_after_broken"].data == {"upstream": "after_broken"}
    assert skipped["after_broken"].message == (
        "Skipped step 'after_broken': upstream step 'broken' did not succeed."
    )
    materialized = [str(e.asset_key) for e in result.get_asset_materialization_events()]
    assert sorted(materialized) == ["independent", "source"]
    assert result.asset_value("independent") == 2
    last = result.all_events[-1]
    assert last.event_type == EventType.RUN_FAILURE
    assert last.data["failed_steps"] == ["broken"]
    assert "steps failed: broken" in last.message


def test_raise_on_error_raises_the_users_own_exception() -> None:
    raised: list[BaseException] = []

    @dg.asset
    def fails() -> int:
        error = KeyError("missing column")
        raised.append(error)
        raise error

    with pytest.raises(KeyError) as err:
        dg.materialize([fails])
    assert err.value is raised[0]


def test_a_successful_run_starts_and_ends_with_run_events() -> None:
    result = dg.materialize([source, independent])
    types = [e.event_type for e in result.all_events]
    assert types[0] == EventType.RUN_START
    assert types[1] == EventType.ENGINE
    assert types[-1] == EventType.RUN_SUCCESS
    assert result.all_events[1].data == {"steps": ["source", "independent"]}


class Limits(dg.Config):
    rows: int = 10
    label: str


@dg.asset(key_prefix="lake")
def configured(config: Limits) -> str:
    return f"{config.label}:{config.rows}"


@pytest.mark.parametrize(
    "run_config",
    [
        {"ops": {"configured": {"config": {"label": "a", "rows": 3}}}},
        {"ops": {"lake__configured": {"config": {"label": "a", "rows": 3}}}},
        dg.RunConfig(ops={"configured": Limits(label="a", rows=3)}),
        dg.RunConfig(ops={"lake__configured": {"label": "a", "rows": 3}}),
    ],
)
def test_config_by_asset_name_or_step_key_dict_or_object(run_config: object) -> None:
    result = dg.materialize([configured], run_config=run_config)
    assert result.asset_value("lake/configured") == "a:3"


def test_invalid_config_names_the_asset_and_the_field() -> None:
    with pytest.raises(ExecutionError) as err:
        dg.materialize([configured], run_config={"ops": {"configured": {"config": {"rows": 1}}}})
    assert str(err.value).startswith("invalid config for asset 'lake__configured': ")
    assert "label" in str(err.value)
    assert "Field required" in str(err.value)


def test_config_for_an_asset_not_in_the_run_is_refused() -> None:
    with pytest.raises(ExecutionError) as err:
        dg.materialize([configured], run_config={"ops": {"configurd": {"config": {}}}})
    assert str(err.value) == (
        "run_config names ['configurd'], which are not assets in this run "
        "(assets: ['lake__configured'])"
    )


def test_values_beside_config_are_refused_not_dropped() -> None:
    # A common slip: the values without the "config" level. They would be ignored silently.
    with pytest.raises(ExecutionError) as err:
        dg.materialize([configured], run_config={"ops": {"configured": {"label": "a"}}})
    assert str(err.value) == (
        "run_config for asset 'lake__configured' has ['label'] beside 'config'; put the values "
        "under it: {'ops': {'lake__configured': {'config': {...}}}}"
    )


def test_config_for_an_asset_without_a_config_parameter_is_refused() -> None:
    with pytest.raises(ExecutionError, match="gives config to asset 'source', which takes no"):
        dg.materialize([source], run_config={"ops": {"source": {"config": {"rows": 1}}}})
    assert dg.materialize([source], run_config={"ops": {"source": {"config": {}}}}).success


CALLS: list[str] = []  # pydantic copies a list field, so the resources log here


class Tracked(dg.ConfigurableResource):
    name: str

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        CALLS.append(f"setup {context.resource_key}")

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        CALLS.append(f"teardown {context.resource_key}")


class Unreachable(dg.ConfigurableResource):
    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        raise ConnectionError("no route to host")


def test_resources_open_before_the_steps_and_close_after_even_when_a_step_fails() -> None:
    CALLS.clear()

    @dg.asset
    def uses(tracked: Tracked) -> int:
        CALLS.append(f"step sees {tracked.name}")
        raise RuntimeError("step failed")

    result = dg.materialize([uses], resources={"tracked": Tracked(name="t")}, raise_on_error=False)

    assert result.failed_steps == ["uses"]
    assert CALLS == ["setup tracked", "step sees t", "teardown tracked"]


def test_a_resource_that_fails_to_open_fails_the_run_by_name() -> None:
    @dg.asset
    def uses(db: Unreachable) -> int:
        return 1

    result = dg.materialize([uses], resources={"db": Unreachable()}, raise_on_error=False)

    assert not result.success
    assert of_type(result.all_events, EventType.STEP_START) == []
    last = result.all_events[-1]
    assert last.event_type == EventType.RUN_FAILURE
    assert "resource 'db' failed to initialize: no route to host" in last.message
    with pytest.raises(ExecutionError, match="resource 'db' failed to initialize"):
        dg.materialize([uses], resources={"db": Unreachable()})


class Api(dg.ConfigurableResource):
    token: str


@dg.asset
def calls_api(api: Api) -> str:
    return api.token


def test_env_vars_are_read_when_the_run_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    api = Api(token=dg.EnvVar("BH_TEST_API_TOKEN"))

    monkeypatch.setenv("BH_TEST_API_TOKEN", "first")
    assert dg.materialize([calls_api], resources={"api": api}).asset_value("calls_api") == "first"
    monkeypatch.setenv("BH_TEST_API_TOKEN", "second")
    assert dg.materialize([calls_api], resources={"api": api}).asset_value("calls_api") == "second"


def test_a_missing_env_var_fails_the_run_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BH_TEST_API_TOKEN", raising=False)
    api = Api(token=dg.EnvVar("BH_TEST_API_TOKEN"))

    result = dg.materialize([calls_api], resources={"api": api}, raise_on_error=False)

    assert not result.success
    assert of_type(result.all_events, EventType.STEP_START) == []
    assert result.all_events[-1].message.endswith(
        "resource 'api' field 'token': environment variable BH_TEST_API_TOKEN is not set"
    )
    with pytest.raises(DefinitionError, match="environment variable BH_TEST_API_TOKEN is not set"):
        dg.materialize([calls_api], resources={"api": api})


def test_a_non_io_manager_under_an_io_manager_key_fails_the_run() -> None:
    @dg.asset(io_manager_key="store")
    def stored() -> int:
        return 1

    with pytest.raises(ExecutionError, match="resource 'store' is used as an IO manager but is a"):
        dg.materialize([stored], resources={"store": object()})


def test_execute_run_without_an_instance_tells_its_listeners() -> None:
    seen: list[EventType] = []
    writer = EventWriter(None, "run-1", listeners=[lambda e: seen.append(e.event_type)])

    outcome = execute_run(
        defs=dg.Definitions(assets=[source], resources={"io_manager": dg.InMemoryIOManager()}),
        asset_keys=[AssetKey("source")],
        run_id="run-1",
        writer=writer,
        instance=None,
        capture_values=True,
    )

    assert outcome.success
    assert outcome.succeeded == ["source"]
    assert outcome.values == {AssetKey("source"): 1}
    assert seen[0] == EventType.RUN_START
    assert seen[-1] == EventType.RUN_SUCCESS
    assert EventType.ASSET_MATERIALIZATION in seen

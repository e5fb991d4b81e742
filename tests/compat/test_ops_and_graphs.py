"""Issue 12 item 13: ops, graphs, jobs of ops and graph-backed assets at the level Dagster's
docs use them ("Ops", "Op jobs", "Graphs", "Graph-backed assets", "Unit testing"), with
``import bakehouse as dg``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import bakehouse as dg
from tests.support.projects import write_project


@dg.op
def my_op() -> str:
    return "hello"


@dg.op(ins={"msg": dg.In(str)}, out=dg.Out(str))
def my_input_op(msg: str) -> str:
    return msg + " world"


@dg.job
def my_job() -> None:
    my_input_op(my_op())


def test_a_job_of_ops_runs_in_process_and_gives_each_output() -> None:
    result = my_job.execute_in_process()
    assert result.success
    assert result.output_for_node("my_op") == "hello"
    assert result.output_for_node("my_input_op") == "hello world"
    assert my_job.op_names == ["my_op", "my_input_op"]


def test_an_op_called_directly_is_its_function() -> None:
    assert my_input_op("hi") == "hi world"

    @dg.op
    def with_context(context: dg.OpExecutionContext) -> str:
        return str(context.op_config["greeting"])

    assert with_context(dg.build_op_context(op_config={"greeting": "hey"})) == "hey"


@dg.op(out={"int_output": dg.Out(), "str_output": dg.Out()})
def my_multiple_output_annotation_op() -> tuple[int, str]:
    return (5, "foo")


@dg.op
def double(number: int) -> int:
    return number * 2


def test_several_outputs_feed_ops_by_name_or_position() -> None:
    @dg.job
    def multi() -> None:
        number, _text = my_multiple_output_annotation_op()
        double(number)
        double(my_multiple_output_annotation_op.alias("again")().int_output)

    result = multi.execute_in_process()
    assert result.output_for_node("my_multiple_output_annotation_op", "str_output") == "foo"
    assert result.output_for_node("double") == 10
    assert result.output_for_node("double_2") == 10  # a second call is named op_2, as Dagster
    assert result.output_for_node("again", "int_output") == 5


def test_yielded_outputs() -> None:
    @dg.op(out={"a": dg.Out(), "b": dg.Out()})
    def split():  # type: ignore[no-untyped-def]
        yield dg.Output(1, output_name="a")
        yield dg.Output(2, output_name="b")

    @dg.op
    def add(a: int, b: int) -> int:
        return a + b

    @dg.job
    def adding() -> None:
        a, b = split()
        add(a, b)

    assert adding.execute_in_process().output_for_node("add") == 3


class MyOpConfig(dg.Config):
    person_name: str


@dg.op
def print_greeting(config: MyOpConfig) -> str:
    return f"hello {config.person_name}"


@dg.job
def greeting_job() -> None:
    print_greeting()


def test_op_config_from_run_config_objects_and_dicts() -> None:
    result = greeting_job.execute_in_process(
        run_config=dg.RunConfig({"print_greeting": MyOpConfig(person_name="Alice")})
    )
    assert result.output_for_node("print_greeting") == "hello Alice"
    as_dict = {"ops": {"print_greeting": {"config": {"person_name": "Bob"}}}}
    assert (
        greeting_job.execute_in_process(run_config=as_dict).output_for_node("print_greeting")
        == "hello Bob"
    )

    @dg.op(config_schema={"n": int})
    def legacy(context: dg.OpExecutionContext) -> int:
        return int(context.op_config["n"])

    @dg.job(config={"ops": {"legacy": {"config": {"n": 3}}}})
    def legacy_job() -> None:
        legacy()

    assert legacy_job.execute_in_process().output_for_node("legacy") == 3


def test_config_for_an_op_the_job_lacks_is_refused() -> None:
    with pytest.raises(dg.BakehouseError, match="not ops of job 'greeting_job'"):
        greeting_job.execute_in_process(run_config={"ops": {"nope": {"config": {}}}})


@dg.op
def return_one(context: dg.OpExecutionContext) -> int:
    return 1


@dg.op
def add_one(context: dg.OpExecutionContext, number: int) -> int:
    return number + 1


@dg.graph
def one_plus_one() -> Any:  # an op output in the body, an int once run
    return add_one(return_one())


def test_graphs_nest_in_jobs_and_run_alone() -> None:
    @dg.job
    def nested() -> None:
        add_one(one_plus_one())

    result = nested.execute_in_process()
    assert result.success
    assert result.output_for_node("one_plus_one.add_one") == 2
    assert result.output_for_node("add_one") == 3
    assert one_plus_one.execute_in_process().output_value() == 2
    assert one_plus_one.to_job(name="as_job").execute_in_process().success


def test_a_failing_op_skips_what_depends_on_it() -> None:
    @dg.op
    def explode() -> int:
        raise ValueError("boom")

    @dg.job
    def failing() -> None:
        double(explode())
        my_op()

    result = failing.execute_in_process(raise_on_error=False)
    assert not result.success
    assert result.failed_steps == ["explode"]
    assert result.skipped_steps == ["double"]
    assert result.output_for_node("my_op") == "hello"
    with pytest.raises(ValueError, match="boom"):
        failing.execute_in_process()


def test_job_resources_and_hooks() -> None:
    sent: list[str] = []

    @dg.op(required_resource_keys={"greeter"})
    def greet(context: dg.OpExecutionContext) -> str:
        return str(context.resources.greeter)

    @dg.success_hook
    def note(context: dg.HookContext) -> None:
        sent.append(f"{context.job_name}:{context.op.name}")

    @dg.job(resource_defs={"greeter": dg.ResourceDefinition.hardcoded_resource("hi")}, hooks={note})
    def greeting() -> None:
        greet()

    assert greeting.execute_in_process().output_for_node("greet") == "hi"
    assert sent == ["greeting:greet"]


@dg.asset
def upstream_asset() -> int:
    return 1


@dg.graph_asset
def middle_asset(upstream_asset: int) -> Any:  # an op output in the body
    return add_one(upstream_asset)


@dg.asset
def downstream_asset(middle_asset: int) -> int:
    return middle_asset + 1


@dg.op(out={"one": dg.Out(), "two": dg.Out()})
def two_outputs(upstream: int) -> tuple[int, int]:
    return upstream + 1, upstream + 2


@dg.graph_multi_asset(outs={"first_asset": dg.AssetOut(), "second_asset": dg.AssetOut()})
def two_assets(upstream_asset: int):  # type: ignore[no-untyped-def]
    one, two = two_outputs(upstream_asset)
    return {"first_asset": one, "second_asset": two}


def test_graph_backed_assets_materialize_with_their_upstream() -> None:
    result = dg.materialize([upstream_asset, middle_asset, downstream_asset, two_assets])
    assert result.success
    assert result.asset_value("middle_asset") == 2
    assert result.asset_value("downstream_asset") == 3
    assert result.asset_value("first_asset") == 2
    assert result.asset_value("second_asset") == 3
    assert middle_asset.key == dg.AssetKey("middle_asset")
    assert two_assets.keys == [dg.AssetKey("first_asset"), dg.AssetKey("second_asset")]


def test_an_op_job_in_definitions() -> None:
    defs = dg.Definitions(assets=[upstream_asset], jobs=[my_job, greeting_job])
    defs.validate()
    assert defs.get_job_def("my_job") is my_job
    assert defs.get_job_def("my_job").execute_in_process().success


@pytest.mark.slow
def test_a_job_of_ops_loads_in_a_code_location_and_runs_through_bh_launch(tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "opsy",
        "opsy",
        {
            "defs/jobs.py": """
            import bakehouse as dg

            @dg.op
            def hello():
                return "hello"

            @dg.op
            def shout(context: dg.OpExecutionContext, text: str) -> str:
                context.log.info(text.upper())
                return text.upper()

            @dg.op(config_schema={"times": int})
            def repeat(context, text):
                return text * context.op_config["times"]

            @dg.job(config={"ops": {"repeat": {"config": {"times": 2}}}})
            def shouting():
                repeat(shout(hello()))
            """,
        },
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAKEHOUSE_")}

    def bh(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bakehouse", *args], cwd=project, env=env,
                              capture_output=True, text=True, timeout=120)  # fmt: skip

    listed = bh("list", "defs", "--json")
    assert listed.returncode == 0, listed.stderr
    (job,) = json.loads(listed.stdout)["jobs"]
    assert job["name"] == "shouting"
    launched = bh("launch", "--job", "shouting")
    assert launched.returncode == 0, launched.stdout + launched.stderr
    assert "3 steps succeeded, 0 failed" in launched.stdout
    (run,) = json.loads(bh("runs", "list", "--json").stdout)
    assert run["status"] == "SUCCESS"
    assert run["job_name"] == "shouting"
    events = json.loads(bh("runs", "show", run["run_id"], "--json").stdout)["events"]
    kinds = [(e["event_type"], e["step_key"]) for e in events if e["step_key"]]
    assert ("STEP_SUCCESS", "repeat") in kinds
    assert any(e["message"] == "HELLO" for e in events if e["event_type"] == "LOG")


def test_a_nothing_input_orders_ops_without_passing_a_value() -> None:
    done: list[str] = []

    @dg.op
    def create_table() -> None:
        done.append("create")

    @dg.op(ins={"start": dg.In(dg.Nothing)})
    def insert_rows() -> None:
        done.append("insert")

    @dg.job
    def table_job() -> None:
        insert_rows(start=create_table())

    assert table_job.execute_in_process().success
    assert done == ["create", "insert"]


def test_arguments_bakehouse_does_not_honour_are_refused() -> None:
    # Differs on purpose: bakehouse refuses an argument it would ignore (Dagster's deprecated
    # `version`), and a retry_policy that is not a RetryPolicy, instead of ignoring them.
    with pytest.raises(dg.DefinitionError, match="version"):

        @dg.op(version="1")
        def old_style() -> None:
            return None

    with pytest.raises(dg.DefinitionError, match="retry_policy must be a RetryPolicy"):
        dg.op(retry_policy=3)(old_style_fn)  # type: ignore[call-overload]

    @dg.op(code_version="1")  # descriptive only: accepted
    def versioned() -> int:
        return 1

    assert versioned() == 1


def old_style_fn() -> None:
    return None


def test_op_retries_as_dagsters_guide_shows_them() -> None:
    # The op retries guide: a RetryPolicy on the op, a manual RetryRequested, and a job's
    # op_retry_policy for ops without their own.
    calls: dict[str, int] = {"better": 0, "manual": 0, "plain": 0}

    @dg.op(retry_policy=dg.RetryPolicy(max_retries=3, delay=0.05, backoff=dg.Backoff.LINEAR))
    def better(context: dg.OpExecutionContext) -> int:
        calls["better"] += 1
        if context.retry_number < 2:
            raise ConnectionError("fails sometimes")
        return context.retry_number

    @dg.op
    def manual(previous: int) -> int:
        calls["manual"] += 1
        try:
            raise TimeoutError("should retry")
        except TimeoutError as e:
            raise dg.RetryRequested(max_retries=1, seconds_to_wait=0.05) from e

    @dg.op
    def plain() -> int:
        calls["plain"] += 1
        if calls["plain"] < 2:
            raise RuntimeError("once")
        return 1

    @dg.job(op_retry_policy=dg.RetryPolicy(max_retries=1))
    def retrying_job() -> None:
        manual(better())
        plain()

    result = retrying_job.execute_in_process(raise_on_error=False)
    assert not result.success
    assert calls == {"better": 3, "manual": 2, "plain": 2}
    kinds = [(e.step_key, e.event_type.value) for e in result.all_events if e.step_key]
    better_kinds = [k for s, k in kinds if s == "better"]
    assert better_kinds.count("STEP_UP_FOR_RETRY") == 2
    assert better_kinds.count("STEP_RESTARTED") == 2
    assert better_kinds[-1] == "STEP_SUCCESS"
    assert [k for s, k in kinds if s == "plain"][-1] == "STEP_SUCCESS"
    manual_failure = next(
        e
        for e in result.all_events
        if e.step_key == "manual" and e.event_type.value == "STEP_FAILURE"
    )
    assert "Exceeded max_retries of 1" in manual_failure.message


def test_a_job_of_ops_also_gets_the_definitions_resources() -> None:
    # Differs on purpose: Dagster's docs say a @job's resources must be bound on the job and
    # Definitions(resources=...) does not reach it; bakehouse gives the job the Definitions'
    # resources under its own, so a job moved into a Definitions keeps working either way.
    @dg.op(required_resource_keys={"greeter"})
    def greet(context: dg.OpExecutionContext) -> str:
        return str(context.resources.greeter)

    @dg.job
    def unbound() -> None:
        greet()

    defs = dg.Definitions(jobs=[unbound], resources={"greeter": "from defs"})
    defs.validate()
    assert defs.get_job_def("unbound").execute_in_process().output_for_node("greet") == "from defs"
    with pytest.raises(dg.DefinitionError, match="greeter"):
        dg.Definitions(jobs=[unbound]).validate()


class ScaleConfig(dg.Config):
    factor: int = 1


@dg.op
def scale(number: int, config: ScaleConfig) -> int:
    return number * config.factor


@dg.graph_asset
def scaled_asset(upstream_asset: int) -> Any:  # an op output in the body
    return scale(upstream_asset)


def test_the_ops_of_a_graph_asset_take_config_under_the_asset() -> None:
    default = dg.materialize([upstream_asset, scaled_asset])
    assert default.asset_value("scaled_asset") == 1
    configured = dg.materialize(
        [upstream_asset, scaled_asset],
        run_config={"ops": {"scaled_asset": {"ops": {"scale": {"config": {"factor": 7}}}}}},
    )
    assert configured.asset_value("scaled_asset") == 7
    with pytest.raises(dg.BakehouseError, match="invalid config for op 'scale'"):
        dg.materialize(
            [upstream_asset, scaled_asset],
            run_config={"ops": {"scaled_asset": {"ops": {"scale": {"config": {"factor": "x"}}}}}},
        )

"""Issue 12 item 11: function-style resources, IO manager definitions, hooks and the contexts
tests build by hand, from Dagster's docs (resources API reference, "Testing resources",
"Op hooks", "Testing hooks"), run with ``import bakehouse as dg``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import bakehouse as dg
from tests.support.projects import write_project


class Recorder:
    """A real object that remembers what it was sent (Dagster's docs use a MagicMock here)."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, message: str) -> None:
        self.sent.append(message)


# -- @resource and ResourceDefinition ------------------------------------------------------


@dg.resource(config_schema={"foo": str})
def my_resource(init_context: dg.InitResourceContext) -> str:
    return str(init_context.resource_config["foo"])


def test_a_resource_function_called_with_a_built_init_context() -> None:
    assert my_resource(dg.build_init_resource_context(config={"foo": "bar"})) == "bar"


@dg.resource
def the_credentials() -> tuple[str, str]:
    return ("bob", "secret")


@dg.resource(required_resource_keys={"credentials"})
def the_db_connection(init_context: dg.InitResourceContext) -> Iterator[dict[str, object]]:
    user, _password = init_context.resources.credentials
    connection = {"user": user, "open": True}
    try:
        yield connection
    finally:
        connection["open"] = False


def test_build_resources_sets_up_what_a_resource_requires_and_tears_it_down() -> None:
    with dg.build_resources(
        {"db_connection": the_db_connection, "credentials": the_credentials}
    ) as resources:
        conn = resources.db_connection
        assert conn == {"user": "bob", "open": True}
    assert conn["open"] is False


def test_hardcoded_none_mock_and_string_resources_in_a_run() -> None:
    @dg.asset(required_resource_keys={"foo", "nothing", "anything", "name"})
    def uses(context: dg.AssetExecutionContext) -> str:
        context.resources.anything.whatever(1)  # a mock accepts any call
        assert context.resources.nothing is None
        return f"{context.resources.foo}-{context.resources.name}"

    result = dg.materialize(
        [uses],
        resources={
            "foo": dg.ResourceDefinition.hardcoded_resource("bar"),
            "nothing": dg.ResourceDefinition.none_resource(),
            "anything": dg.ResourceDefinition.mock_resource(),
            "name": dg.ResourceDefinition.string_resource(),
        },
        run_config={"resources": {"name": {"config": "ada"}}},
    )
    assert result.output_for_node("uses") == "bar-ada"


def test_resource_config_from_the_run_config_and_from_configured() -> None:
    @dg.asset(required_resource_keys={"greeting"})
    def hello(context: dg.AssetExecutionContext) -> str:
        return str(context.resources.greeting)

    run = dg.materialize(
        [hello],
        resources={"greeting": my_resource},
        run_config={"resources": {"greeting": {"config": {"foo": "hi"}}}},
    )
    assert run.output_for_node("hello") == "hi"
    configured = dg.materialize(
        [hello], resources={"greeting": my_resource.configured({"foo": "yo"})}
    )
    assert configured.output_for_node("hello") == "yo"
    with pytest.raises(dg.BakehouseError, match="config field 'foo'"):
        dg.materialize([hello], resources={"greeting": my_resource})


def test_an_io_manager_definition_stores_the_assets_values() -> None:
    stored: dict[str, Any] = {}

    class DictIOManager(dg.IOManager):
        def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
            stored[context.asset_key.to_user_string()] = obj

        def load_input(self, context: dg.InputContext) -> Any:
            return stored[context.asset_key.to_user_string()]

    @dg.io_manager
    def dict_io_manager(init_context: dg.InitResourceContext) -> DictIOManager:
        return DictIOManager()

    assert isinstance(dict_io_manager, dg.IOManagerDefinition)

    @dg.asset
    def upstream() -> int:
        return 2

    @dg.asset
    def downstream(upstream: int) -> int:
        return upstream * 10

    assert dg.materialize([upstream, downstream], resources={"io_manager": dict_io_manager}).success
    assert stored == {"upstream": 2, "downstream": 20}


def test_build_op_context_and_build_asset_check_context_give_resources_and_config() -> None:
    @dg.asset(required_resource_keys={"foo"})
    def reads(context: dg.AssetExecutionContext) -> str:
        return f"{context.resources.foo}:{context.op_config['n']}"

    context = dg.build_op_context(
        resources={"foo": dg.ResourceDefinition.hardcoded_resource("bar")}, op_config={"n": 1}
    )
    assert reads(context) == "bar:1"

    @dg.asset_check(asset="reads")
    def reads_check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=context.resources.foo == "bar")

    check_context = dg.build_asset_check_context(resources={"foo": "bar"})
    assert reads_check(check_context).passed


# -- hooks -----------------------------------------------------------------------------------


def test_a_hook_called_directly_with_a_built_context() -> None:
    @dg.success_hook(required_resource_keys={"my_conn"})
    def my_success_hook(context: dg.HookContext) -> None:
        context.resources.my_conn.send("foo")

    my_conn = Recorder()
    context = dg.build_hook_context(resources={"my_conn": my_conn})
    my_success_hook(context)
    assert my_conn.sent == ["foo"]


def test_job_hooks_run_after_each_step_success_and_failure() -> None:
    slack = Recorder()

    @dg.success_hook(required_resource_keys={"slack"})
    def slack_message_on_success(context: dg.HookContext) -> None:
        context.resources.slack.send(f"op {context.op.name} succeeded")

    @dg.failure_hook(required_resource_keys={"slack"})
    def slack_message_on_failure(context: dg.HookContext) -> None:
        context.resources.slack.send(f"op {context.op.name} failed: {context.op_exception}")

    @dg.asset
    def a() -> int:
        return 1

    @dg.asset
    def b(a: int) -> int:
        raise ValueError("burnt")

    job = dg.define_asset_job(
        "notif_all", [a, b], hooks={slack_message_on_success, slack_message_on_failure}
    )
    defs = dg.Definitions(assets=[a, b], jobs=[job], resources={"slack": slack})
    result = defs.resolve_job_def("notif_all").execute_in_process(raise_on_error=False)
    assert not result.success
    assert slack.sent == ["op a succeeded", "op b failed: burnt"]


def test_a_hook_that_raises_fails_no_step() -> None:
    @dg.success_hook
    def broken(context: dg.HookContext) -> None:
        raise RuntimeError("hook broke")

    @dg.asset
    def fine() -> int:
        return 1

    defs = dg.Definitions(assets=[fine], jobs=[dg.define_asset_job("j", [fine], hooks=[broken])])
    result = defs.resolve_job_def("j").execute_in_process()
    assert result.success
    assert any("hook broke" in e.message for e in result.all_events)


@pytest.mark.slow
def test_hooks_run_in_the_run_worker_of_bh_launch(tmp_path: Path) -> None:
    marker = tmp_path / "hooks.txt"
    project = write_project(
        tmp_path / "hooked",
        "hooked",
        {
            "defs/assets.py": f"""
            import bakehouse as dg

            @dg.success_hook
            def note(context):
                with open({str(marker)!r}, "a") as f:
                    f.write(f"ok {{context.op.name}} {{context.job_name}}\\n")

            @dg.asset
            def bread():
                return 1

            baking = dg.define_asset_job("baking", [bread], hooks={{note}})
            """,
        },
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAKEHOUSE_")}
    done = subprocess.run(
        [sys.executable, "-m", "bakehouse", "launch", "--job", "baking"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert marker.read_text() == "ok bread baking\n"

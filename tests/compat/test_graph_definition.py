"""Graphs wired by hand with Dagster's `GraphDefinition(node_defs=..., dependencies=...)`, as its
"Graphs" guide ("Constructing graphs explicitly / from configuration") and the API docs of
`DependencyDefinition`, `MultiDependencyDefinition`, `NodeInvocation`, `InputMapping` and
`OutputMapping` show them, with ``import bakehouse as dg``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import bakehouse as dg
from tests.compat.test_ops_and_graphs import add_one, return_one  # the guide's two ops
from tests.support.faults import bh
from tests.support.projects import write_project


@dg.op
def adder(a: int, b: int) -> int:
    return a + b


def test_the_documented_one_plus_one_graph_runs_as_a_job() -> None:
    one_plus_one = dg.GraphDefinition(
        name="one_plus_one",
        node_defs=[return_one, add_one],
        dependencies={"add_one": {"number": dg.DependencyDefinition("return_one")}},
    ).to_job()
    result = one_plus_one.execute_in_process()
    assert result.success
    assert result.output_for_node("add_one") == 2
    assert one_plus_one.op_names == ["return_one", "add_one"]


def test_the_nodes_run_in_dependency_order_whatever_order_they_are_listed_in() -> None:
    graph = dg.GraphDefinition(
        name="listed_backwards",
        node_defs=[adder, add_one, return_one],
        dependencies={
            "adder": {
                "a": dg.DependencyDefinition("add_one"),
                "b": dg.DependencyDefinition("return_one", "result"),
            },
            "add_one": {"number": dg.DependencyDefinition("return_one")},
        },
    )
    assert [n.name for n in graph.nodes] == ["return_one", "add_one", "adder"]
    assert graph.to_job().execute_in_process().output_for_node("adder") == 3


def test_node_invocations_use_one_op_twice_under_aliases() -> None:
    job = dg.GraphDefinition(
        name="twice",
        node_defs=[return_one, add_one],
        dependencies={
            dg.NodeInvocation("add_one", alias="first"): {
                "number": dg.DependencyDefinition("return_one")
            },
            dg.NodeInvocation("add_one", alias="second"): {
                "number": dg.DependencyDefinition("first")
            },
        },
    ).to_job()
    result = job.execute_in_process()
    assert result.output_for_node("first") == 2
    assert result.output_for_node("second") == 3


def test_a_multi_dependency_fans_outputs_into_one_list_input() -> None:
    @dg.op
    def total(numbers: list[int]) -> int:
        return sum(numbers)

    job = dg.GraphDefinition(
        name="fan_in",
        node_defs=[return_one, add_one, total],
        dependencies={
            "add_one": {"number": dg.DependencyDefinition("return_one")},
            "total": {
                "numbers": dg.MultiDependencyDefinition(
                    [dg.DependencyDefinition("return_one"), dg.DependencyDefinition("add_one")]
                )
            },
        },
    ).to_job()
    assert job.execute_in_process().output_for_node("total") == 3


def test_a_nothing_dependency_orders_ops_without_passing_a_value() -> None:
    done: list[str] = []

    @dg.op
    def create_table() -> None:
        done.append("create")

    @dg.op(ins={"start": dg.In(dg.Nothing)})
    def insert_rows() -> None:
        done.append("insert")

    job = dg.GraphDefinition(
        name="tables",
        node_defs=[insert_rows, create_table],
        dependencies={"insert_rows": {"start": dg.DependencyDefinition("create_table")}},
    ).to_job()
    assert job.execute_in_process().success
    assert done == ["create", "insert"]


def test_input_and_output_mappings_let_the_graph_nest_in_a_job() -> None:
    plus_two = dg.GraphDefinition(
        name="plus_two",
        node_defs=[add_one],
        # As in Dagster, a definition used under an alias only is no node under its own name.
        dependencies={
            "add_one": {},
            dg.NodeInvocation("add_one", alias="second"): {
                "number": dg.DependencyDefinition("add_one")
            },
        },
        input_mappings=[
            dg.InputMapping(
                graph_input_name="start",
                mapped_node_name="add_one",
                mapped_node_input_name="number",
            )
        ],
        output_mappings=[
            dg.OutputMapping(
                graph_output_name="result",
                mapped_node_name="second",
                mapped_node_output_name="result",
            )
        ],
    )

    @dg.job
    def nested() -> None:
        add_one(plus_two(return_one()))

    result = nested.execute_in_process()
    assert result.output_for_node("plus_two.second") == 3
    assert result.output_for_node("add_one") == 4


@pytest.mark.parametrize(
    ("dependencies", "message"),
    [
        (
            {"add_one": {"number": dg.DependencyDefinition("nope")}},
            "input 'number' of node 'add_one': depends on node 'nope', which the graph does not "
            "have",
        ),
        (
            {"add_one": {"numbr": dg.DependencyDefinition("return_one")}},
            r"input 'numbr' of node 'add_one': 'add_one' has no such input",
        ),
        (
            {"add_one": {"number": dg.DependencyDefinition("return_one", "other")}},
            "node 'return_one' has no output 'other'",
        ),
        (
            {"adder": {"a": dg.DependencyDefinition("return_one")}},
            r"dependencies name node 'adder', which is not among node_defs",
        ),
    ],
)
def test_wiring_mistakes_name_the_node_and_input_at_fault(
    dependencies: dict[str, dict[str, dg.DependencyDefinition]], message: str
) -> None:
    with pytest.raises(dg.DefinitionError, match=message):
        dg.GraphDefinition(name="wrong", node_defs=[return_one, add_one], dependencies=dependencies)


def test_a_cycle_is_refused_with_its_nodes() -> None:
    with pytest.raises(dg.DefinitionError, match=r"cycle among nodes \['first', 'second'\]"):
        dg.GraphDefinition(
            name="loop",
            node_defs=[add_one],
            dependencies={
                dg.NodeInvocation("add_one", alias="first"): {
                    "number": dg.DependencyDefinition("second")
                },
                dg.NodeInvocation("add_one", alias="second"): {
                    "number": dg.DependencyDefinition("first")
                },
            },
        )


def test_per_node_retry_policies_are_refused_rather_than_ignored() -> None:
    # Differs on purpose: Dagster retries the node by policy; bakehouse says it does not.
    with pytest.raises(dg.DefinitionError, match="retry_policy"):
        dg.GraphDefinition(
            name="retrying",
            node_defs=[return_one],
            dependencies={dg.NodeInvocation("return_one", retry_policy=object()): {}},
        )


@pytest.mark.slow
def test_a_wired_job_loads_in_a_code_location_and_runs_through_bh_launch(tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "wired",
        "wired",
        {
            "defs/jobs.py": """
            import bakehouse as dg

            @dg.op
            def hello() -> str:
                return "hello"

            @dg.op
            def shout(context: dg.OpExecutionContext, text: str) -> str:
                context.log.info(text.upper())
                return text.upper()

            shouting = dg.GraphDefinition(
                name="shouting",
                node_defs=[shout, hello],
                dependencies={"shout": {"text": dg.DependencyDefinition("hello")}},
            ).to_job()
            """,
        },
    )
    listed = bh("list", "defs", "--json", cwd=project)
    assert listed.returncode == 0, listed.stderr
    (job,) = json.loads(listed.stdout)["jobs"]
    assert job["name"] == "shouting"
    launched = bh("launch", "--job", "shouting", cwd=project)
    assert launched.returncode == 0, launched.stdout + launched.stderr
    assert "2 steps succeeded, 0 failed" in launched.stdout
    (run,) = json.loads(bh("runs", "list", "--json", cwd=project).stdout)
    events = json.loads(bh("runs", "show", run["run_id"], "--json", cwd=project).stdout)["events"]
    assert any(e["message"] == "HELLO" for e in events if e["event_type"] == "LOG")

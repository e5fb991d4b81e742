"""``--json`` on every command that prints a result: stdout holds exactly one JSON document
(progress and messages go to stderr), and a failure is ``{"error": ...}`` with a non-zero exit.
Also: shell completion, produced by click and completing names without importing user code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest

from tests.cli.helpers import RunBh
from tests.support.projects import write_project

pytestmark = pytest.mark.slow

KITCHEN = {
    "defs/kitchen.py": """\
        from pathlib import Path

        import bakehouse as dg

        # Completion must never import user code: this file says when it is imported.
        Path(__file__).with_name("imported").touch()


        @dg.asset
        def flour() -> int:
            return 1


        @dg.asset
        def bread(flour: int) -> int:
            print("kneading")
            return flour + 1


        @dg.asset
        def burnt() -> int:
            raise RuntimeError("the crust is charcoal")


        bread_job = dg.define_asset_job("bread_job", selection="flour+")


        @dg.schedule(cron_schedule="0 6 * * *", job=bread_job)
        def morning(context):
            return dg.RunRequest()


        @dg.sensor(job=bread_job)
        def door(context):
            return dg.RunRequest(run_key="opened")
        """
}
# Commands that print no result of their own: servers, and what writes files for people.
NO_RESULT = {
    "dev",
    "webserver",
    "daemon",
    "worker start",  # a Celery worker: it serves until stopped
    "create project",
    "create workspace",
    "scaffold defs",
    "scaffold component",
    "migrate-from-dagster",
    "runs logs",  # the step's own output, as it printed it
}


@pytest.fixture(scope="module")
def kitchen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_project(tmp_path_factory.mktemp("json") / "kitchen", "kitchen", KITCHEN)


def _document(done: subprocess.CompletedProcess[str], exit_code: int = 0) -> Any:
    """The one JSON document on stdout, after checking the exit code."""
    assert done.returncode == exit_code, done.stdout + done.stderr
    return json.loads(done.stdout)  # fails on anything but exactly one document


def _error(done: subprocess.CompletedProcess[str], exit_code: int) -> dict[str, Any]:
    error: dict[str, Any] = _document(done, exit_code)["error"]
    assert error["exit_code"] == exit_code
    return error


def test_check_defs(bh: RunBh, kitchen: Path) -> None:
    done = bh("check", "defs", "--json", cwd=kitchen)
    checked = _document(done)
    assert checked["ok"] is True
    (location,) = checked["locations"]
    assert location["name"] == "kitchen"
    assert location["status"] == "LOADED"
    assert location["counts"]["assets"] == 3
    assert location["counts"]["schedules"] == location["counts"]["sensors"] == 1
    assert "✓ code location kitchen" in done.stderr  # what a person reads, out of the way


def test_check_defs_of_a_broken_location(bh: RunBh, tmp_path: Path) -> None:
    root = write_project(
        tmp_path / "broken", "broken", {"defs/bad.py": "def oops(:\n"}, defs_errors="fail"
    )
    checked = _document(bh("check", "defs", "--json", cwd=root), 1)
    assert checked["ok"] is False
    (location,) = checked["locations"]
    # A check loads every module whatever defs_errors says, and names each broken one.
    assert location["status"] == "LOADED_WITH_ERRORS"
    (error,) = location["module_errors"]
    assert error["where"] == f"{root.resolve()}/src/broken/defs/bad.py:1"
    assert "SyntaxError" in error["message"]


def test_launch_prints_the_runs_outcome(bh: RunBh, kitchen: Path) -> None:
    done = bh("launch", "--assets", "flour+", "--json", cwd=kitchen)
    outcome = _document(done)
    assert outcome["run"]["status"] == "SUCCESS"
    assert outcome["materialized"] == ["flour", "bread"]
    assert outcome["failed_steps"] == []
    assert "▶ bread" in done.stderr  # progress goes to stderr
    shown = _document(bh("runs", "show", outcome["run"]["run_id"], "--json", cwd=kitchen))
    assert shown["run"] == outcome["run"]


def test_launch_of_a_failing_asset(bh: RunBh, kitchen: Path) -> None:
    outcome = _document(bh("launch", "--assets", "burnt", "--json", cwd=kitchen), 1)
    assert outcome["run"]["status"] == "FAILURE"
    (step,) = outcome["failed_steps"]
    assert step["step_key"] == "burnt"
    assert "the crust is charcoal" in step["error"]["message"]


@pytest.mark.parametrize(
    ("args", "exit_code", "message"),
    [
        (["launch", "--assets", "nope"], 2, "no asset with key 'nope'"),
        (["launch"], 2, "give either --assets SELECTION or --job NAME"),
        (["runs", "list", "--status", "done"], 2, "'done' is not one of"),
        (["runs", "show", "no-such-run"], 1, "no run with id 'no-such-run'"),
        (["backfill", "show", "nope"], 1, "no backfill with id 'nope'"),
        (["token", "revoke", "nobody"], 1, "no token named 'nobody'"),
        (["schedule", "start", "nightly"], 1, "no schedule named 'nightly'"),
        (["locations", "reload", "kitchen"], 1, "no deployment is running"),
    ],
)
def test_failures_are_json_errors_with_a_non_zero_exit(
    bh: RunBh, kitchen: Path, args: list[str], exit_code: int, message: str
) -> None:
    error = _error(bh(*args, "--json", cwd=kitchen), exit_code)
    assert message in error["message"]


def test_runs_list_locations_backfills_and_doctor(bh: RunBh, kitchen: Path) -> None:
    bh("launch", "--assets", "flour", cwd=kitchen)
    runs = _document(bh("runs", "list", "--json", cwd=kitchen))
    assert runs
    assert {"run_id", "status", "asset_selection", "tags"} <= set(runs[0])
    (location,) = _document(bh("locations", "list", "--json", cwd=kitchen))
    assert (location["name"], location["status"]) == ("kitchen", "LOADED")
    assert _document(bh("backfill", "list", "--json", cwd=kitchen)) == []
    assert _document(bh("doctor", "--json", cwd=kitchen)) == []
    settings = _document(bh("check", "settings", "--json", cwd=kitchen))
    assert settings["projects"][0]["settings"]["root_module"] == "kitchen"
    listed = _document(bh("list", "defs", "--json", cwd=kitchen))
    assert {a["key"] for a in listed["assets"]} == {"flour", "bread", "burnt"}


def test_tokens(bh: RunBh, kitchen: Path) -> None:
    created = _document(bh("token", "create", "ci", "--read-only", "--json", cwd=kitchen))
    assert created["name"] == "ci"
    assert created["read_only"] is True
    assert created["token"].startswith("bh_")
    listed = _document(bh("token", "list", "--json", cwd=kitchen))
    assert [t["name"] for t in listed] == ["ci"]
    assert "token" not in listed[0]  # only ever shown when created
    assert _document(bh("token", "revoke", "ci", "--json", cwd=kitchen)) == {
        "name": "ci",
        "revoked": True,
    }


def test_schedules_and_sensors(bh: RunBh, kitchen: Path) -> None:
    (morning,) = _document(bh("schedule", "list", "--json", cwd=kitchen))
    assert (morning["name"], morning["status"]) == ("morning", "STOPPED")
    started = _document(bh("schedule", "start", "morning", "--json", cwd=kitchen))
    assert (started["name"], started["status"]) == ("morning", "RUNNING")
    stopped = _document(bh("schedule", "stop", "morning", "--json", cwd=kitchen))
    assert stopped["status"] == "STOPPED"
    preview = _document(bh("sensor", "preview", "door", "--json", cwd=kitchen))
    assert preview["sensor"] == "door"
    assert [r["run_key"] for r in preview["run_requests"]] == ["opened"]


def _leaves(command: click.Command, ctx: click.Context, path: str) -> dict[str, click.Command]:
    if not isinstance(command, click.Group):
        return {path: command}
    found: dict[str, click.Command] = {}
    for name in command.list_commands(ctx):
        sub = command.get_command(ctx, name)
        assert sub is not None
        found.update(_leaves(sub, ctx, f"{path} {name}".strip()))
    return found


def test_every_command_that_prints_a_result_takes_json() -> None:
    from bakehouse.cli import cli

    with click.Context(cli) as ctx:
        leaves = _leaves(cli, ctx, "")
    lacking = sorted(
        path
        for path, command in leaves.items()
        if path not in NO_RESULT and not any("--json" in p.opts for p in command.params)
    )
    assert lacking == [], f"these commands print a result but take no --json: {lacking}"


def _complete(cwd: Path, words: str, cword: int) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAKEHOUSE_")}
    env.update(COMP_WORDS=words, COMP_CWORD=str(cword), _BH_COMPLETE="bash_complete")
    done = subprocess.run(
        [str(Path(sys.executable).with_name("bh"))],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [line.partition(",")[2] for line in done.stdout.splitlines()]


def test_shell_completion_script_and_names_without_importing_user_code(kitchen: Path) -> None:
    bh = Path(sys.executable).with_name("bh")
    env = {**os.environ, "_BH_COMPLETE": "bash_source"}
    script = subprocess.run(
        [str(bh)], env=env, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert "_bh_completion()" in script
    assert "complete -o nosort -F _bh_completion bh" in script
    marker = kitchen / "src/kitchen/defs/imported"
    marker.unlink(missing_ok=True)
    assert _complete(kitchen, "bh ru", 1) == ["runs"]
    assert "--launched-by" in _complete(kitchen, "bh runs list --la", 3)
    assert _complete(kitchen, "bh locations reload ", 3) == ["kitchen"]
    assert _complete(kitchen, "bh schedule start morning --location k", 5) == ["kitchen"]
    assert not marker.exists(), "completion imported the project's code"

"""`bh runs logs`: each step's captured stdout and stderr, with either executor, after a crash,
and followed while the run goes on."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.cli.helpers import RunBh
from tests.support.dev_server import bh_env
from tests.support.projects import write_project
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow

TALKERS = """\
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    import bakehouse as dg


    @dg.asset
    def talker() -> int:
        print("hello from print")
        print("to stderr", file=sys.stderr)
        os.write(1, b"straight to fd 1\\n")
        subprocess.run(["sh", "-c", "echo from a child; echo child err >&2"], check=True)
        return 1


    @dg.asset
    def raiser(talker: int) -> int:
        print("before the exception")
        raise RuntimeError("boom")


    @dg.asset
    def dier() -> int:
        print("before dying", end="")
        print("dying on stderr", file=sys.stderr)
        os._exit(7)


    @dg.op
    def shout() -> None:
        print("an op says hi")


    @dg.job
    def shouting() -> None:
        shout()


    @dg.asset
    def drip() -> int:
        gate = Path(__file__).parent / "gate"
        print("first line", flush=True)
        while not gate.exists():
            time.sleep(0.02)
        print("second line")
        return 1
    """


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "talk", "talk", {"defs/talkers.py": TALKERS})


def _last_run_id(bh: RunBh, project: Path) -> str:
    listed = bh("runs", "list", "--json", cwd=project)
    assert listed.returncode == 0, listed.stderr
    run_id: str = json.loads(listed.stdout)[0]["run_id"]
    return run_id


@pytest.mark.parametrize("executor", ["in_process", "multiprocess"])
def test_runs_logs_prints_each_steps_stdout_and_stderr(
    project: Path, bh: RunBh, executor: str
) -> None:
    launched = bh("launch", "--assets", "talker, raiser", "--executor", executor, cwd=project)
    assert launched.returncode == 1, launched.stdout + launched.stderr
    run_id = _last_run_id(bh, project)

    every = bh("runs", "logs", run_id[:8], cwd=project)
    assert every.returncode == 0, every.stderr
    assert every.stdout == (
        "== talker (stdout) ==\n"
        "hello from print\nstraight to fd 1\nfrom a child\n"
        "== raiser (stdout) ==\n"
        "before the exception\n"
    )
    errors = bh("runs", "logs", run_id, "--step", "talker", "--stderr", cwd=project)
    assert errors.stdout == "to stderr\nchild err\n"
    # The exception's output before it is kept; the step failed.
    one = bh("runs", "logs", run_id, "--step", "raiser", cwd=project)
    assert one.stdout == "before the exception\n"


@pytest.mark.parametrize("executor", ["in_process", "multiprocess"])
def test_a_crashed_steps_output_before_the_crash_is_kept(
    project: Path, bh: RunBh, executor: str
) -> None:
    launched = bh("launch", "--assets", "dier", "--executor", executor, cwd=project)
    assert launched.returncode != 0
    run_id = _last_run_id(bh, project)

    out = bh("runs", "logs", run_id, "--step", "dier", cwd=project)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "before dying"  # written before os._exit, no newline, no flush
    err = bh("runs", "logs", run_id, "--step", "dier", "--stderr", cwd=project)
    assert err.stdout == "dying on stderr\n"


def test_a_job_of_ops_captures_each_op(project: Path, bh: RunBh) -> None:
    launched = bh("launch", "--job", "shouting", cwd=project)
    assert launched.returncode == 0, launched.stdout + launched.stderr
    run_id = _last_run_id(bh, project)

    assert bh("runs", "logs", run_id, cwd=project).stdout == "== shout (stdout) ==\nan op says hi\n"


def test_an_unknown_step_is_named_with_the_runs_steps(project: Path, bh: RunBh) -> None:
    assert bh("launch", "--assets", "talker", cwd=project).returncode == 0
    run_id = _last_run_id(bh, project)

    shown = bh("runs", "show", run_id, cwd=project, env={"COLUMNS": "200"})
    assert f"What the steps printed: bh runs logs {run_id} [--step S] [--stderr]" in shown.stdout
    result = bh("runs", "logs", run_id, "--step", "nope", cwd=project)

    assert result.returncode == 1
    assert f"run {run_id} has no step 'nope' (steps: talker)" in result.stderr
    unknown_run = bh("runs", "logs", "nope", cwd=project)
    assert unknown_run.returncode == 1
    assert "no run with id 'nope'" in unknown_run.stderr


def test_follow_prints_lines_as_the_step_writes_them(project: Path, bh: RunBh) -> None:
    gate = project / "src" / "talk" / "defs" / "gate"
    command = [sys.executable, "-m", "bakehouse"]
    launch = subprocess.Popen(
        [*command, "launch", "--assets", "drip", "-q"],
        cwd=project,
        env=bh_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    follower: subprocess.Popen[str] | None = None
    try:
        run_id = eventually(
            lambda: json.loads(bh("runs", "list", "--json", cwd=project).stdout or "[]"),
            message="the run to be stored",
        )[0]["run_id"]
        follower = subprocess.Popen(
            [*command, "runs", "logs", run_id, "--step", "drip", "--follow"],
            cwd=project,
            env=bh_env(),
            stdout=subprocess.PIPE,
            text=True,
        )
        lines: list[str] = []
        stdout = follower.stdout
        assert stdout is not None
        reader = threading.Thread(target=lambda: lines.extend(iter(stdout.readline, "")))
        reader.start()

        eventually(lambda: lines == ["first line\n"], message="the first line, followed")
        assert launch.poll() is None  # the step still waits at its gate
        gate.touch()
        assert launch.wait(timeout=60) == 0
        assert follower.wait(timeout=60) == 0  # it stops once the run has finished
        reader.join(timeout=10)
        assert lines == ["first line\n", "second line\n"]
    finally:
        for process in (launch, follower):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
        if follower is not None and follower.stdout is not None:
            follower.stdout.close()

"""A step is finished when its function returns: child processes it leaves running are reported
in a warning event with their pids and never hold the run, whatever started them
(``subprocess``, ``multiprocessing``, ``os.fork``) and whichever executor runs the step. Real
``bh launch`` runs, real processes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from pathlib import Path

import pytest

from tests.support.faults import bh, small_project

pytestmark = pytest.mark.slow

LEAVES = """\
import multiprocessing
import os
import subprocess
import time

import bakehouse as dg



@dg.asset
def with_popen() -> int:
    subprocess.Popen(["sleep", "40"])
    return 1


@dg.asset
def with_multiprocessing() -> int:
    multiprocessing.Process(target=time.sleep, args=(40,)).start()
    return 2


@dg.asset
def with_fork() -> int:
    if os.fork() == 0:
        time.sleep(40)
        os._exit(0)
    return 3
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("executor", ["multiprocess", "in_process"])
def test_children_left_running_are_reported_and_do_not_hold_the_run(
    tmp_path: Path, executor: str
) -> None:
    project = small_project(tmp_path / "leaves", "leaves", LEAVES)
    started = time.monotonic()
    done = bh("launch", "--assets", "*", "--executor", executor, cwd=project)
    took = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    runs = json.loads(bh("runs", "list", "--json", cwd=project).stdout)
    shown = json.loads(bh("runs", "show", runs[0]["run_id"], "--json", cwd=project).stdout)
    warnings = [
        e for e in shown["events"] if e["event_type"] == "ENGINE" and e["level"] == "WARNING"
    ]
    pids = [pid for e in warnings for pid in e["data"]["pids"]]
    try:
        assert shown["run"]["status"] == "SUCCESS"
        assert took < 30, f"the run waited for the children ({took:.1f} s)"
        assert sorted(e["step_key"] for e in warnings) == [
            "with_fork",
            "with_multiprocessing",
            "with_popen",
        ]
        assert all("the run does not wait for them" in e["message"] for e in warnings)
        assert pids
        assert all(_alive(pid) for pid in pids)  # reported, not killed
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

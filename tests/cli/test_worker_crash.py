"""A run worker SIGKILLed mid-step together with its launcher: every event it had flushed is
stored, the step it was in shows no success nor materialization, and run monitoring fails the
run (events are buffered per step and flushed at step ends and every 100 ms)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bakehouse.daemon.monitor import RunMonitor
from bakehouse.host.run_coordinator import RunCoordinator
from bakehouse.storage import Instance
from bakehouse.storage.records import EventType, RunStatus
from tests.cli.helpers import write
from tests.support.processes import alive
from tests.support.waiting import eventually

CRASHING_ASSETS = """\
import os
import threading
import time
from pathlib import Path

import bakehouse as dg

MARKS = Path(os.environ["CRASH_MARKS"])


@dg.asset
def kneaded(context: dg.AssetExecutionContext) -> int:
    context.log.info("kneading")
    return 1


@dg.asset
def proofed(context: dg.AssetExecutionContext, kneaded: int) -> int:
    context.log.info("proofing started")
    # Wait until the writer's background flush has stored that line (no step boundary since),
    # then say where this process is and stay in the step until the test kills it.
    deadline = time.monotonic() + 60
    while not any(
        e.message.endswith("proofing started") for e in context.instance.get_events(context.run_id)
    ):
        if time.monotonic() > deadline:
            raise RuntimeError("the log line was never flushed")
        time.sleep(0.01)
    (MARKS / "proofed.pid").write_text(str(os.getpid()))
    threading.Event().wait()
    return kneaded
"""


@pytest.mark.slow
@pytest.mark.parametrize("executor", ["in_process", "multiprocess"])
def test_a_worker_killed_mid_step_keeps_what_it_flushed_and_the_monitor_fails_the_run(
    bakery: Path, tmp_path: Path, executor: str
) -> None:
    write(bakery / "src/bakery/defs/crashing.py", CRASHING_ASSETS)
    marks = tmp_path / "marks"
    marks.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAKEHOUSE_")}
    env["CRASH_MARKS"] = str(marks)
    launcher = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bakehouse",
            "launch",
            "--assets",
            "+proofed",
            "--executor",
            executor,
        ],
        cwd=bakery,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # Its own process group: the launcher, its code server and the run worker (and its step
        # processes) are all killed at once, so no coordinator is left to record the end.
        start_new_session=True,
    )
    try:
        pid_file = marks / "proofed.pid"
        eventually(pid_file.exists, message="the step 'proofed' to be running", timeout=120)
        step_pid = int(pid_file.read_text())
        os.killpg(launcher.pid, signal.SIGKILL)
        launcher.wait(timeout=30)
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
            launcher.wait(timeout=30)
    eventually(lambda: not alive(step_pid), message=f"pid {step_pid} to be gone")

    with Instance.for_home(bakery / ".bakehouse") as instance:
        (run,) = instance.get_runs()
        assert run.status == RunStatus.STARTED  # nobody was left to record its end
        events = instance.get_events(run.run_id)
        by_step: dict[str | None, list[EventType]] = {}
        for event in events:
            by_step.setdefault(event.step_key, []).append(EventType(event.event_type))
        # The finished step: committed whole with its success.
        assert EventType.STEP_SUCCESS in by_step["kneaded"]
        assert EventType.ASSET_MATERIALIZATION in by_step["kneaded"]
        # The step it died in: what was flushed before the kill is there, no half success.
        assert by_step["proofed"][0] == EventType.STEP_START
        assert any(e.message.endswith("proofing started") for e in events)
        assert EventType.STEP_SUCCESS not in by_step["proofed"]
        assert EventType.ASSET_MATERIALIZATION not in by_step["proofed"]
        assert "proofed" not in instance.get_latest_materializations()
        assert "kneaded" in instance.get_latest_materializations()

        coordinator = RunCoordinator(instance, {}, log_dir=tmp_path / "logs")
        monitor = RunMonitor(instance, coordinator, grace=0)
        assert monitor.tick() == [run.run_id]
        assert instance.get_run(run.run_id).status == RunStatus.FAILURE
        ending = instance.get_events(run.run_id)[-1]
        assert ending.event_type == EventType.RUN_FAILURE
        assert "it died during step proofed" in ending.message

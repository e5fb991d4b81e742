"""The must-show case: a 12-partition backfill whose ``bh daemon`` is SIGKILLed half-way and
restarted completes with each partition run exactly once, and every partition materialized.

Runs in flight at the kill keep going in their workers and materialize their partition; with
no coordinator left to record their end, the restarted daemon's run monitoring records it from
their steps' events, so every run ends SUCCESS.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bakehouse.host.backfill_requests import request_backfill
from bakehouse.host.client import fetch_snapshot, target_for_project
from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.project.workspace import find_workspace
from bakehouse.protocol.snapshot import LocationSnap
from bakehouse.storage import Instance
from bakehouse.storage.records import (
    BACKFILL_TAG,
    PARTITION_TAG,
    BackfillStatus,
    PartitionStatus,
    RunStatus,
)
from tests.support.processes import descendants
from tests.support.projects import write_project
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow

DAILY_12 = {
    "defs/sales.py": """\
        import time

        import bakehouse as dg


        @dg.asset(partitions_def=dg.DailyPartitionsDefinition(start_date="2024-01-01",
                                                               end_date="2024-01-13"))
        def sales(context: dg.AssetExecutionContext) -> str:
            time.sleep(0.4)
            return context.partition_key
        """
}
KEYS = [f"2024-01-{day:02d}" for day in range(1, 13)]


def _start_daemon(root: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAKEHOUSE_")}
    return subprocess.Popen(
        [sys.executable, "-m", "bakehouse", "daemon", "--max-concurrent-runs", "2"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _stop_leftovers(pids: list[int]) -> None:
    """Stop what the killed daemon left (code servers exit when its heartbeat stops, run
    workers when their steps end), checking each pid is still one of ours before killing it."""
    deadline = time.monotonic() + 30
    for pid in pids:
        cmdline = Path(f"/proc/{pid}/cmdline")
        while cmdline.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        with contextlib.suppress(OSError):
            if b"bakehouse" in cmdline.read_bytes():
                os.kill(pid, signal.SIGKILL)


def test_a_killed_daemon_resumes_the_backfill_without_running_a_partition_twice(
    tmp_path: Path,
) -> None:
    root = write_project(tmp_path / "shop", "bf_restart", DAILY_12)
    [project] = find_workspace(root).projects
    snapshot = fetch_snapshot(target_for_project(project))
    assert isinstance(snapshot, LocationSnap), snapshot
    leftovers: list[int] = []
    daemons: list[subprocess.Popen[bytes]] = []
    with Instance.for_home(root / ".bakehouse") as instance:
        backfill = request_backfill(
            instance, GlobalAssetGraph([snapshot]), selection="sales", launched_by="test"
        )
        backfill_id = backfill.backfill_id
        assert list(backfill.partition_keys) == KEYS

        def claimed() -> int:
            found = instance.get_backfill(backfill_id)
            return len(found.partition_runs) if found else 0

        try:
            daemons.append(_start_daemon(root))
            eventually(
                lambda: claimed() >= 6, timeout=120, message="half the partitions to get runs"
            )
            # Its run workers outlive it and finish their steps; remember them to clean up.
            leftovers = descendants(daemons[0].pid)
            os.kill(daemons[0].pid, signal.SIGKILL)
            daemons[0].wait(timeout=10)
            at_kill = claimed()
            assert 6 <= at_kill < 12, at_kill

            daemons.append(_start_daemon(root))
            eventually(
                lambda: (found := instance.get_backfill(backfill_id)) and found.status.is_finished,
                timeout=180,
                message="the backfill to finish",
            )
        finally:
            for daemon in daemons:
                if daemon.poll() is None:
                    daemon.send_signal(signal.SIGTERM)
                    daemon.wait(timeout=60)
            _stop_leftovers(leftovers)

        final = instance.get_backfill(backfill_id)
        assert final is not None
        assert final.status is BackfillStatus.COMPLETED, final.status_message
        runs = instance.get_runs_by_tag(BACKFILL_TAG, backfill_id)
        assert sorted(r.tags[PARTITION_TAG] for r in runs) == KEYS  # one run per partition
        for key in KEYS:
            of_key = [
                r
                for r in instance.get_runs_by_tag(PARTITION_TAG, key)
                if r.tags.get(BACKFILL_TAG) == backfill_id
            ]
            assert len(of_key) == 1, (key, of_key)
            assert of_key[0].run_id == final.partition_runs[key]
            assert of_key[0].status is RunStatus.SUCCESS, (key, of_key[0].status)
        status = instance.get_partition_status("sales")
        assert status == {key: PartitionStatus.MATERIALIZED for key in KEYS}

"""The run queue's limits, and failed workers recorded as failed runs."""

from __future__ import annotations

import subprocess
import time

import pytest

from bakehouse.daemon.monitor import RunMonitor
from bakehouse.daemon.run_queue import RunQueue, TagConcurrencyLimit
from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.storage import EventType, RunStatus
from bakehouse.storage.records import EventRecord, RunRecord
from tests.daemon.conftest import FakeClock, MakeParts, Parts, wait_finished
from tests.support.launching import queue_run
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow

SLOW = {
    "defs/slow.py": """\
        import os
        import signal
        import time
        from pathlib import Path

        import bakehouse as dg


        # Naps last until the test opens the gate (a file in the project's folder): the runs
        # the queue let start are all still running when the test looks, however slow the
        # machine starts their workers.
        GATE = Path(__file__).resolve().parents[3] / "gate"


        @dg.asset
        def nap():
            deadline = time.monotonic() + 120
            while not GATE.exists():
                if time.monotonic() > deadline:
                    raise RuntimeError("nobody opened the gate")
                time.sleep(0.05)
            return 1


        @dg.asset
        def crash():
            os.kill(os.getpid(), signal.SIGKILL)
        """
}


def _open_the_gate_once_started(parts: Parts, run_ids: list[str], count: int) -> None:
    """Wait until `count` of the runs are running (held at the gate), check no more are, then
    let every nap finish."""
    started = eventually(
        lambda: _started(parts, run_ids) if len(_started(parts, run_ids)) >= count else None,
        timeout=120,
        message=f"{count} runs to start",
    )
    assert len(started) == count
    (parts.root / "gate").touch()


def _started(parts: Parts, run_ids: list[str]) -> list[str]:
    return [r for r in run_ids if parts.instance.get_run(r).status == RunStatus.STARTED]


def _max_overlap(runs: list[RunRecord]) -> int:
    edges = sorted([(r.started_at, 1) for r in runs] + [(r.ended_at, -1) for r in runs])
    busy = peak = 0
    for _, step in edges:
        busy += step
        peak = max(peak, busy)
    return peak


@pytest.mark.timeout(300)
def test_ten_queued_runs_never_exceed_two_at_once_and_all_finish(make_parts: MakeParts) -> None:
    parts = make_parts("queue_limit", SLOW)
    graph = GlobalAssetGraph(parts.supervisor.snapshots())
    run_ids = [queue_run(parts.instance, graph, ["nap"]).run_id for _ in range(10)]
    queue = RunQueue(parts.instance, parts.coordinator, lambda: graph, max_concurrent_runs=2,
                     interval=0.05)  # fmt: skip
    queue.start()
    try:
        _open_the_gate_once_started(parts, run_ids, 2)
        wait_finished(parts.instance, run_ids)
    finally:
        queue.stop()
    runs = [parts.instance.get_run(r) for r in run_ids]
    assert all(r.status == RunStatus.SUCCESS for r in runs)
    assert _max_overlap(runs) == 2


@pytest.mark.timeout(300)
def test_a_tag_limit_holds_back_only_the_runs_it_matches(make_parts: MakeParts) -> None:
    parts = make_parts("queue_tags", SLOW)
    graph = GlobalAssetGraph(parts.supervisor.snapshots())
    tagged = [queue_run(parts.instance, graph, ["nap"], tags={"db": "warehouse"}).run_id
              for _ in range(3)]  # fmt: skip
    free = [queue_run(parts.instance, graph, ["nap"]).run_id for _ in range(2)]
    queue = RunQueue(parts.instance, parts.coordinator, lambda: graph, max_concurrent_runs=10,
                     tag_concurrency_limits=[TagConcurrencyLimit("db", 1, "warehouse")],
                     interval=0.05)  # fmt: skip
    queue.start()
    try:
        _open_the_gate_once_started(parts, tagged + free, 3)  # one tagged run, both free ones
        wait_finished(parts.instance, tagged + free)
    finally:
        queue.stop()
    assert _max_overlap([parts.instance.get_run(r) for r in tagged]) == 1
    assert all(parts.instance.get_run(r).status == RunStatus.SUCCESS for r in tagged + free)


@pytest.mark.timeout(300)
def test_a_sigkilled_worker_fails_its_run_with_the_reason_in_its_log(make_parts: MakeParts) -> None:
    parts = make_parts("queue_kill", SLOW)
    graph = GlobalAssetGraph(parts.supervisor.snapshots())
    run_id = queue_run(parts.instance, graph, ["crash"]).run_id
    queue = RunQueue(parts.instance, parts.coordinator, lambda: graph, interval=0.05)
    queue.start()
    try:
        wait_finished(parts.instance, [run_id], timeout=60)
    finally:
        queue.stop()
    assert parts.instance.get_run(run_id).status == RunStatus.FAILURE
    # Whichever process the kill hit (the run worker, or the executor's child process that ran
    # the step), the log says it died of signal 9.
    log = "\n".join(e.message for e in parts.instance.get_events(run_id))
    assert "exited with code -9" in log or "signal 9" in log, log


def test_monitoring_fails_a_run_whose_worker_died_while_nobody_watched(
    make_parts: MakeParts,
) -> None:
    parts = make_parts("monitor_orphan", SLOW)
    dead = subprocess.Popen(["true"])
    dead.wait()
    now = time.time()
    parts.instance.create_run(RunRecord(run_id="orphan", asset_selection=("nap",)))
    for event_type, data in ((EventType.RUN_START, {}), (EventType.ENGINE, {"pid": dead.pid})):
        parts.instance.store_event(
            EventRecord(run_id="orphan", event_type=event_type, timestamp=now, data=data)
        )
    clock = FakeClock(now + 5)
    monitor = RunMonitor(parts.instance, parts.coordinator, clock=clock, grace=15)
    assert monitor.tick() == []  # within the grace period
    clock.now = now + 60
    assert monitor.tick() == ["orphan"]
    run = parts.instance.get_run("orphan")
    assert run.status == RunStatus.FAILURE
    message = parts.instance.get_events("orphan", event_types=[EventType.RUN_FAILURE])[-1].message
    assert f"run worker (pid {dead.pid}) is no longer running" in message
    assert "nap never ran" in message


@pytest.mark.parametrize(
    ("steps", "status", "says"),
    [
        # The worker finished every step: only the coordinator that would have said so died.
        (
            [(EventType.STEP_START, "nap"), (EventType.ASSET_MATERIALIZATION, "nap"),
             (EventType.STEP_SUCCESS, "nap")],
            RunStatus.SUCCESS, "recorded the end from the steps' events",
        ),
        (
            [(EventType.STEP_START, "nap"), (EventType.STEP_FAILURE, "nap")],
            RunStatus.FAILURE, "steps failed: nap",
        ),
        (
            [(EventType.STEP_START, "nap")],
            RunStatus.FAILURE, "it died during step nap",
        ),
    ],
)  # fmt: skip
def test_monitoring_ends_an_orphaned_run_as_its_steps_recorded(
    make_parts: MakeParts, steps: list[tuple[EventType, str]], status: RunStatus, says: str
) -> None:
    parts = make_parts("monitor_judge", SLOW)
    dead = subprocess.Popen(["true"])
    dead.wait()
    now = time.time()
    parts.instance.create_run(RunRecord(run_id="orphan", asset_selection=("nap",)))
    events = [(EventType.RUN_START, None), (EventType.ENGINE, None), *steps]
    for event_type, key in events:
        parts.instance.store_event(
            EventRecord(
                run_id="orphan", event_type=event_type, timestamp=now, step_key=key,
                asset_key=key if event_type == EventType.ASSET_MATERIALIZATION else None,
                data={"pid": dead.pid} if event_type == EventType.ENGINE else {},
            )
        )  # fmt: skip
    monitor = RunMonitor(parts.instance, parts.coordinator, clock=FakeClock(now + 60), grace=15)
    failed = monitor.tick()
    assert parts.instance.get_run("orphan").status == status
    assert failed == ([] if status == RunStatus.SUCCESS else ["orphan"])
    assert says in parts.instance.get_events("orphan")[-1].message


def test_monitoring_queues_again_a_run_whose_starter_died_before_its_worker(
    make_parts: MakeParts,
) -> None:
    parts = make_parts("monitor_requeue", SLOW)
    now = time.time()
    parts.instance.create_run(RunRecord(run_id="dequeued", asset_selection=("nap",)))
    for event_type in (EventType.RUN_QUEUED, EventType.RUN_STARTING):
        parts.instance.store_event(
            EventRecord(run_id="dequeued", event_type=event_type, timestamp=now)
        )
    monitor = RunMonitor(parts.instance, parts.coordinator, clock=FakeClock(now + 60), grace=15)
    assert monitor.tick() == []
    assert parts.instance.get_run("dequeued").status == RunStatus.QUEUED
    assert "queued this run again" in parts.instance.get_events("dequeued")[-1].message


@pytest.mark.timeout(300)
def test_a_per_value_tag_limit_holds_one_run_per_value(make_parts: MakeParts) -> None:
    parts = make_parts("queue_per_value", SLOW)
    graph = GlobalAssetGraph(parts.supervisor.snapshots())
    by_customer = {
        customer: [
            queue_run(parts.instance, graph, ["nap"], tags={"customer": customer}).run_id
            for _ in range(2)
        ]
        for customer in ("acme", "globex")
    }
    limit = TagConcurrencyLimit("customer", 1, per_value=True)
    queue = RunQueue(parts.instance, parts.coordinator, lambda: graph, max_concurrent_runs=10,
                     tag_concurrency_limits=[limit], interval=0.05)  # fmt: skip
    everyone = [r for ids in by_customer.values() for r in ids]
    queue.start()
    try:
        _open_the_gate_once_started(parts, everyone, 2)  # one run per customer
        wait_finished(parts.instance, everyone)
    finally:
        queue.stop()
    runs = {c: [parts.instance.get_run(r) for r in ids] for c, ids in by_customer.items()}
    assert all(r.status == RunStatus.SUCCESS for rs in runs.values() for r in rs)
    assert _max_overlap(runs["acme"]) == 1
    assert _max_overlap(runs["globex"]) == 1
    assert _max_overlap(runs["acme"] + runs["globex"]) == 2  # the two customers ran side by side

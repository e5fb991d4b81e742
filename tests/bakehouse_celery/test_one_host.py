"""The celery executor on one host: SQLite storage (allowed only with every worker here), the
executor named in `Definitions`, and a step's RetryPolicy after the user's own failure."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kombu.connection import Connection

from bakehouse.errors import ExecutionError
from bakehouse.storage import Instance
from bakehouse.storage.records import EventType, RunStatus, WorkerRecord
from bakehouse_celery.app import MAX_PRIORITY, host_id
from bakehouse_celery.executor import _refuse_sqlite_across_hosts
from tests.support.celery_cluster import RABBITMQ_URL, REDIS_URL, start_worker, worker_venv
from tests.support.projects import write_project
from tests.support.waiting import eventually


def _worker(host: str) -> WorkerRecord:
    now = time.time()
    return WorkerRecord(
        worker_id=f"mill@{host}:1", hostname=host, host_id=host, queues=("mill",),
        started_at=now, heartbeat_at=now,
    )  # fmt: skip


def test_sqlite_storage_is_refused_when_a_worker_is_on_another_host(tmp_path: Path) -> None:
    with Instance.for_home(tmp_path / ".bakehouse") as instance:
        instance.record_worker(_worker(host_id()))
        _refuse_sqlite_across_hosts(instance, {"mill"})  # every worker here: allowed
        instance.record_worker(_worker("other-machine"))
        _refuse_sqlite_across_hosts(instance, {"bakery"})  # not on the run's queues
        with pytest.raises(ExecutionError, match=r"mill@other-machine:1 on other-machine is not"):
            _refuse_sqlite_across_hosts(instance, {"mill"})


def _mill(tmp_path: Path, assets: str, location: str) -> tuple[Path, str]:
    """A project "mill" whose defs/assets.py is `assets`, named `location` (its steps' queue),
    and the URL of the SQLite file under it that the launch and its workers share."""
    project = write_project(tmp_path / "mill", "mill", {"defs/assets.py": assets})
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            'root_module = "mill"', f'root_module = "mill"\ncode_location_name = "{location}"'
        )
    )
    (project / ".bakehouse").mkdir()
    return project, f"sqlite:///{project / '.bakehouse' / 'bakehouse.db'}"


def _waiting(broker: str, queue: str) -> int:
    """How many messages wait in `queue` on `broker` (0 while nobody declared it yet)."""
    # Redis keeps one list per priority: count them all, as the app's transport does.
    options = {"priority_steps": list(range(MAX_PRIORITY + 1))}
    with Connection(broker, transport_options=options) as connection:  # type: ignore[no-untyped-call]
        try:
            return int(connection.default_channel.queue_declare(queue=queue, passive=True)[1])
        except connection.channel_errors:
            return 0


def _stop(launched: subprocess.Popen[bytes]) -> None:
    """Kill `launched` if it still runs, and close its pipes (a test that failed while it ran
    must not leave them for the garbage collector to warn about in a later test)."""
    if launched.poll() is None:
        launched.kill()
        launched.wait(timeout=30)
    for pipe in (launched.stdout, launched.stderr):
        if pipe is not None:
            pipe.close()


def _launch_all(project: Path, sqlite: str) -> subprocess.Popen[bytes]:
    """`bh launch --assets '*'` of `project` on `sqlite`, in the background, its output piped."""
    return subprocess.Popen(
        [sys.executable, "-m", "bakehouse", "launch", "--assets", "*"],
        cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "BAKEHOUSE_STORAGE_URL": sqlite},
    )  # fmt: skip


FLAKY = """
import os
from pathlib import Path

import bakehouse as dg
from bakehouse_celery import celery_executor

MARK = Path(os.environ["FLAKY_MARK"])


@dg.asset
def flour() -> int:
    print("milling flour")
    return 2


@dg.asset(retry_policy=dg.RetryPolicy(max_retries=2))
def dough(flour: int) -> int:
    print("kneading")
    if not MARK.exists():
        MARK.write_text("failed once")
        raise RuntimeError("the oven was cold")
    return flour * 3


@dg.asset
def proof(dough: int) -> int:
    mark = MARK.with_suffix(".proof")
    if not mark.exists():
        mark.write_text("asked once")
        raise dg.RetryRequested(max_retries=1, seconds_to_wait=1.5)
    return dough


defs = dg.Definitions(
    executor=celery_executor.configured(
        {"broker": BROKER, "backend": BROKER, "worker_timeout": 20}
    )
)
"""


@pytest.mark.slow
def test_a_failed_attempt_is_retried_as_its_policy_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker = f"{REDIS_URL}/8"
    queue = f"mill_{os.urandom(4).hex()}"
    project, sqlite = _mill(tmp_path, FLAKY.replace("BROKER", repr(broker)), queue)
    mark = tmp_path / "flaky-mark"
    monkeypatch.setenv("FLAKY_MARK", str(mark))  # the worker's and the launch's environment
    worker = start_worker(project, worker_venv("east"), queue, sqlite)
    try:
        launched = subprocess.run(
            [sys.executable, "-m", "bakehouse", "launch", "--assets", "*"],
            cwd=project, capture_output=True, timeout=240,
            env={**os.environ, "BAKEHOUSE_STORAGE_URL": sqlite},
        )  # fmt: skip
        assert launched.returncode == 0, (launched.stdout + launched.stderr).decode()[-4000:]
    finally:
        worker.stop()
    with Instance.open(sqlite) as instance:
        (run,) = instance.get_runs()
        assert run.status == RunStatus.SUCCESS
        retries = instance.get_events(run.run_id, event_types=[EventType.STEP_UP_FOR_RETRY])
        assert [(e.step_key, e.data["attempt"], e.data["next_attempt"]) for e in retries] == [
            ("dough", 1, 2),
            ("proof", 1, 2),
        ]
        assert "the oven was cold" in retries[0].message
        assert not instance.get_events(run.run_id, event_types=[EventType.STEP_FAILURE])
        claims = [(c.step_key, c.attempt) for c in instance.get_step_claims(run.run_id)]
        assert sorted(claims) == [
            ("dough", 1), ("dough", 2), ("flour", 1), ("proof", 1), ("proof", 2)
        ]  # fmt: skip
        # The RetryRequested's own wait, not the (absent) policy's, held the second attempt.
        restarts = instance.get_events(run.run_id, event_types=[EventType.STEP_RESTARTED])
        assert [(e.step_key, e.data["attempt"]) for e in restarts] == [("dough", 2), ("proof", 2)]
        assert retries[1].data["seconds_to_wait"] == 1.5
        assert restarts[1].timestamp - retries[1].timestamp >= 1.5
    # A worker on the run's host captures what steps print into the run's storage folder (no
    # object store is set), where `bh runs logs` reads it; a retried step's attempts append.
    for step, text in [("flour", "milling flour\n"), ("dough", "kneading\nkneading\n")]:
        logs = subprocess.run(
            [sys.executable, "-m", "bakehouse", "runs", "logs", run.run_id, "--step", step],
            cwd=project, capture_output=True, text=True, timeout=120,
            env={**os.environ, "BAKEHOUSE_STORAGE_URL": sqlite},
        )  # fmt: skip
        assert logs.returncode == 0, logs.stderr
        assert logs.stdout == text


VANISHING = """
import os
import time
from pathlib import Path

import bakehouse as dg
from bakehouse_celery import celery_executor

STARTED = Path(os.environ["VANISH_STARTED"])


@dg.asset(retry_policy=dg.RetryPolicy(max_retries=1))
def long_proof() -> int:
    STARTED.write_text(str(os.getpid()))
    time.sleep(600)
    return 1


defs = dg.Definitions(
    executor=celery_executor.configured(
        {"broker": BROKER, "backend": BROKER, "worker_timeout": TIMEOUT}
    )
)
"""


@pytest.mark.slow
def test_a_run_whose_only_worker_dies_fails_with_the_reason_in_bounded_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run monitoring for Celery runs: the only worker of the run's queue is SIGKILLed mid-step.
    The step's attempt is recorded as lost and retried as its policy allows; with no worker
    left on the queue the retry fails, naming the queue and how to start a worker, and the run
    ends FAILURE within two worker timeouts, nothing left STARTED."""
    timeout = 8.0
    broker = f"{REDIS_URL}/9"
    queue = f"mill_{os.urandom(4).hex()}"
    source = VANISHING.replace("BROKER", repr(broker)).replace("TIMEOUT", repr(timeout))
    project, sqlite = _mill(tmp_path, source, queue)
    started = tmp_path / "started"
    monkeypatch.setenv("VANISH_STARTED", str(started))
    worker = start_worker(project, worker_venv("east"), queue, sqlite)
    launched = _launch_all(project, sqlite)
    try:
        deadline = time.monotonic() + 180
        while not started.exists():
            assert launched.poll() is None, launched.communicate()[1].decode()[-4000:]
            assert time.monotonic() < deadline, "long_proof never started on the worker"
            time.sleep(0.2)
        worker.kill()
        killed_at = time.time()
        _out, err = launched.communicate(timeout=240)
    finally:
        worker.stop()
        _stop(launched)
    assert launched.returncode == 1, err.decode()[-4000:]
    with Instance.open(sqlite) as instance:
        (run,) = instance.get_runs()
        assert run.status == RunStatus.FAILURE
        events = instance.get_events(run.run_id)
    (retry,) = [e for e in events if e.event_type == EventType.STEP_UP_FOR_RETRY]
    assert retry.data["error"]["cls_name"] == "WorkerLostError"
    assert "stopped heartbeating" in retry.message
    (failure,) = [e for e in events if e.event_type == EventType.STEP_FAILURE]
    assert failure.data["error"]["cls_name"] == "NoWorkerError"
    assert f"no worker listening on queue '{queue}'" in failure.message
    assert f"bh worker start -q {queue}" in failure.message
    # Lost after one timeout of silence, the retry failed after a second one; the rest is the
    # executor's once-a-second look at the workers and a loaded machine's slack.
    assert run.ended_at is not None
    assert run.ended_at - killed_at < 2 * timeout + 30


ROUTED = """
import bakehouse as dg
from bakehouse_celery import PRIORITY_TAG, QUEUE_TAG, celery_executor


@dg.asset
def flour() -> int:
    return 2


@dg.asset(op_tags={QUEUE_TAG: OVEN, PRIORITY_TAG: 2})
def glaze() -> int:
    return 3


@dg.asset(op_tags={QUEUE_TAG: OVEN, PRIORITY_TAG: 9})
def icing() -> int:
    return 4


@dg.asset(op_tags={QUEUE_TAG: OVEN})
def crumb() -> int:
    return 5


defs = dg.Definitions(
    executor=celery_executor.configured(
        {"broker": BROKER, "backend": BACKEND, "worker_timeout": 120}
    )
)
"""


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["redis", "rabbitmq"])
def test_queue_and_priority_tags_route_and_order_steps(tmp_path: Path, kind: str) -> None:
    """An asset's ``bakehouse-celery/queue`` op tag sends its step to that queue instead of its
    location's, and ``bakehouse-celery/priority`` orders the steps waiting there: a worker on
    the location's queue takes only the untagged step; a worker started later on the tagged
    queue, one step at a time, takes its three waiting steps highest priority first (9, the
    default 5, then 2), on Redis (whose transport serves priorities in reverse) and RabbitMQ."""
    broker = f"{REDIS_URL}/10" if kind == "redis" else RABBITMQ_URL
    suffix = os.urandom(4).hex()
    queue, oven = f"mill_{suffix}", f"oven_{suffix}"
    source = (
        ROUTED.replace("BROKER", repr(broker))
        .replace("BACKEND", repr(f"{REDIS_URL}/10"))
        .replace("OVEN", repr(oven))
    )
    project, sqlite = _mill(tmp_path, source, queue)
    venv = worker_venv("east")
    mill = start_worker(project, venv, queue, sqlite)
    oven_worker = None
    launched = _launch_all(project, sqlite)
    try:
        # flour runs on the location's worker; the oven's steps wait in their queue.
        deadline = time.monotonic() + 180
        while True:
            assert launched.poll() is None, launched.communicate()[1].decode()[-4000:]
            assert time.monotonic() < deadline, "flour never succeeded on the mill worker"
            with Instance.open(sqlite) as instance:
                runs = instance.get_runs()
                done = runs and instance.get_events(
                    runs[0].run_id, event_types=[EventType.STEP_SUCCESS]
                )
            if done:
                break
            time.sleep(0.3)
        # Start the oven's worker only once all three steps wait in its queue: one started
        # earlier takes whichever the run worker published first, whatever its priority.
        eventually(
            lambda: _waiting(broker, oven) == 3, timeout=60, interval=0.2,
            message="the three oven steps never waited in their queue",
        )  # fmt: skip
        with Instance.open(sqlite) as instance:
            claims = instance.get_step_claims(runs[0].run_id)
        assert [c.step_key for c in claims] == ["flour"]
        oven_worker = start_worker(project, venv, queue, sqlite, concurrency=1, queues=(oven,))
        _out, err = launched.communicate(timeout=240)
        assert launched.returncode == 0, err.decode()[-4000:]
    finally:
        mill.stop()
        if oven_worker is not None:
            oven_worker.stop()
        _stop(launched)
    with Instance.open(sqlite) as instance:
        (run,) = instance.get_runs()
        assert run.status == RunStatus.SUCCESS
        claims = instance.get_step_claims(run.run_id)
    by_step = {c.step_key: c for c in claims}
    assert by_step["flour"].worker_id.endswith(f":{mill.process.pid}")
    assert oven_worker is not None
    for step in ("icing", "crumb", "glaze"):
        assert by_step[step].worker_id.endswith(f":{oven_worker.process.pid}"), step
    oven_order = [c.step_key for c in sorted(claims, key=lambda c: c.claimed_at)][1:]
    assert oven_order == ["icing", "crumb", "glaze"]

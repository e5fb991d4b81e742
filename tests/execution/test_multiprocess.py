"""The multiprocess executor, through the real run worker: parallel steps within a bound, order,
failures and skips, a worker process killed mid-step, resources set up and torn down per process,
values through the filesystem IO manager, and no process left behind when the run worker stops.

Each test writes a small project into tmp_path, stores a run in a SQLite file there and runs
``python -m bakehouse run-worker`` on it; what happened is read back from stored events.
"""

from __future__ import annotations

import itertools
import os
import pickle
import shutil
import signal
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import bakehouse as dg
from bakehouse.errors import DefinitionError
from bakehouse.storage import Instance
from bakehouse.storage.records import (
    EventRecord,
    EventType,
    PartitionStatus,
    RunRecord,
    RunStatus,
)
from tests.support.processes import alive
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow

MODULE = "mp_project"

HEADER = """\
import os
import signal
import time
from pathlib import Path

import bakehouse as dg

HERE = Path(__file__).parent


# Wait until `count` steps have called meet (each in its own process), so that they are all
# running at once however slowly the machine starts them.
def meet(count):
    arrived = HERE / "arrived"
    arrived.mkdir(exist_ok=True)
    (arrived / f"{os.getpid()}-{time.monotonic_ns()}").touch()
    deadline = time.monotonic() + 30
    while len(list(arrived.iterdir())) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(list(arrived.iterdir()))} of {count} steps arrived")
        time.sleep(0.02)
"""


@dataclass
class Finished:
    """A run worker that ran to its end, and what it stored."""

    code: int
    run: RunRecord
    events: list[EventRecord]
    output: str

    def of_type(self, event_type: EventType) -> list[EventRecord]:
        return [e for e in self.events if e.event_type == event_type]

    def steps(self, event_type: EventType) -> list[str]:
        return [e.step_key or "" for e in self.of_type(event_type)]

    def intervals(self) -> list[tuple[float, float]]:
        """(STEP_START, STEP_SUCCESS) timestamps of each step that succeeded."""
        started = {e.step_key: e.timestamp for e in self.of_type(EventType.STEP_START)}
        return [(started[e.step_key], e.timestamp) for e in self.of_type(EventType.STEP_SUCCESS)]


def _env(project: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAKEHOUSE_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(project), env.get("PYTHONPATH")) if p)
    return env


def _store_run(project: Path, **fields: Any) -> tuple[str, str]:
    (project / "home").mkdir(exist_ok=True)
    url = f"sqlite:///{project / 'home' / 'bakehouse.db'}"
    run_id = str(uuid.uuid4())
    fields.setdefault("selection_query", "*")
    with Instance.open(url) as instance:
        instance.create_run(RunRecord(run_id=run_id, **fields))
    return url, run_id


def _worker_command(url: str, run_id: str, executor: str | None) -> list[str]:
    command = [sys.executable, "-m", "bakehouse", "run-worker", "--run-id", run_id]
    command += ["--module", MODULE, "--storage-url", url]
    return command + (["--executor", executor] if executor else [])


def _read(url: str, run_id: str) -> tuple[RunRecord, list[EventRecord]]:
    with Instance.open(url) as instance:
        return instance.get_run(run_id), instance.get_events(run_id)


def run_project(
    project: Path, source: str, *, executor: str | None = None, **fields: Any
) -> Finished:
    """Write `source` as the project's module, store a run of it and execute it in a worker."""
    (project / f"{MODULE}.py").write_text(HEADER + textwrap.dedent(source))
    shutil.rmtree(project / "arrived", ignore_errors=True)  # `meet` counts this run's steps
    url, run_id = _store_run(project, **fields)
    done = subprocess.run(
        _worker_command(url, run_id, executor),
        cwd=project,
        env=_env(project),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    run, events = _read(url, run_id)
    return Finished(done.returncode, run, events, done.stdout + done.stderr)


def max_overlap(intervals: Iterable[tuple[float, float]]) -> int:
    """The most intervals open at one instant (one ending as another starts do not overlap)."""
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    most = current = 0
    for _, change in edges:
        current += change
        most = max(most, current)
    return most


def sleepers(count: int, max_concurrent: int) -> str:
    assets = "".join(
        f"""
@dg.asset
def sleeper_{i}() -> int:
    meet({max_concurrent})
    return {i}
"""
        for i in range(count)
    )
    return (
        assets
        + f"""
defs = dg.Definitions(
    assets=[{", ".join(f"sleeper_{i}" for i in range(count))}],
    executor=dg.multiprocess_executor.configured({{"max_concurrent": {max_concurrent}}}),
)
"""
    )


# -- parallelism ------------------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_two_independent_steps_run_at_the_same_time(tmp_path: Path) -> None:
    done = run_project(tmp_path, sleepers(2, max_concurrent=2))

    assert done.code == 0, done.output
    assert done.run.status == RunStatus.SUCCESS
    assert max_overlap(done.intervals()) == 2


@pytest.mark.timeout(60)
def test_max_concurrent_bounds_how_many_steps_run_at_once(tmp_path: Path) -> None:
    done = run_project(tmp_path, sleepers(4, max_concurrent=2))

    assert done.code == 0, done.output
    assert sorted(done.steps(EventType.STEP_SUCCESS)) == [f"sleeper_{i}" for i in range(4)]
    assert max_overlap(done.intervals()) == 2
    started = [e for e in done.of_type(EventType.ENGINE) if "Started worker process" in e.message]
    assert len(started) == 2  # warm processes are reused, not started per step


@pytest.mark.timeout(60)
def test_one_at_a_time_means_no_overlap(tmp_path: Path) -> None:
    done = run_project(tmp_path, sleepers(3, max_concurrent=1))

    assert done.code == 0, done.output
    assert len(done.intervals()) == 3
    assert max_overlap(done.intervals()) == 1


# -- which executor ---------------------------------------------------------------------------

PLAIN = """
@dg.asset
def one() -> int:
    return 1

defs = dg.Definitions(assets=[one])
"""


@pytest.mark.timeout(60)
def test_a_launched_run_uses_worker_processes_unless_told_otherwise(tmp_path: Path) -> None:
    default = run_project(tmp_path, PLAIN)
    overridden = run_project(tmp_path, PLAIN, executor="in_process")
    tagged = run_project(tmp_path, PLAIN, tags={"bakehouse/executor": "in_process"})

    engine = [[e.message for e in r.of_type(EventType.ENGINE)] for r in (default, overridden)]
    assert any("in up to 1 worker processes (fork)" in m for m in engine[0]), engine[0]
    assert "Executing 1 steps in process." in engine[1]
    assert "Executing 1 steps in process." in [e.message for e in tagged.of_type(EventType.ENGINE)]
    assert all(r.run.status == RunStatus.SUCCESS for r in (default, overridden, tagged))


@pytest.mark.timeout(60)
def test_the_definitions_executor_and_then_the_jobs_are_used(tmp_path: Path) -> None:
    source = """
@dg.asset
def one() -> int:
    return 1

defs = dg.Definitions(
    assets=[one],
    jobs=[dg.define_asset_job("parallel", executor_def=dg.multiprocess_executor)],
    executor=dg.in_process_executor,
)
"""
    plain = run_project(tmp_path, source)
    job = run_project(tmp_path, source, selection_query=None, job_name="parallel")

    assert "Executing 1 steps in process." in [e.message for e in plain.of_type(EventType.ENGINE)]
    assert any("worker processes" in e.message for e in job.of_type(EventType.ENGINE))
    assert job.run.status == RunStatus.SUCCESS


def test_executor_config_is_checked_when_defined() -> None:
    assert dg.multiprocess_executor.configured({"max_concurrent": 4}).config == {
        "max_concurrent": 4
    }
    with pytest.raises(DefinitionError, match="no config \\['max_concurrency'\\]"):
        dg.multiprocess_executor.configured({"max_concurrency": 4})
    with pytest.raises(DefinitionError, match="at least 1, not 0"):
        dg.multiprocess_executor.configured({"max_concurrent": 0})
    with pytest.raises(DefinitionError, match="start_method must be one of fork, spawn"):
        dg.multiprocess_executor.configured({"start_method": "forkserver"})


# -- order, values, config --------------------------------------------------------------------

CHAIN = """
class Scale(dg.Config):
    factor: int = 1

@dg.asset
def first(config: Scale) -> int:
    return 7 * config.factor

@dg.asset
def second(first: int) -> list[int]:
    return [first, first + 1]

@dg.asset
def third(second: list[int]) -> dict[str, int]:
    return {"sum": sum(second), "pid": os.getpid()}

defs = dg.Definitions(
    assets=[first, second, third],
    executor=dg.multiprocess_executor.configured({"max_concurrent": 3, "start_method": "%s"}),
)
"""


@pytest.mark.timeout(60)
@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_a_chain_runs_in_order_and_values_pass_through_the_filesystem(
    tmp_path: Path, start_method: str
) -> None:
    done = run_project(
        tmp_path,
        CHAIN % start_method,
        run_config={"ops": {"first": {"config": {"factor": 2}}}},
    )

    assert done.code == 0, done.output
    assert done.steps(EventType.STEP_START) == ["first", "second", "third"]
    intervals = done.intervals()
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(intervals))
    stored = tmp_path / "home" / "storage" / "third"
    value = pickle.loads(stored.read_bytes())
    assert value["sum"] == 14 + 15
    assert value["pid"] != 0
    engine = " ".join(e.message for e in done.of_type(EventType.ENGINE))
    assert f"({start_method})" in engine


BRANCH_AND_LONER = """
@dg.asset
def a() -> int:
    return 1

@dg.asset
def b(a: int) -> int:
    return a + 1

@dg.asset
def c() -> int:
    return 3

defs = dg.Definitions(
    assets=[a, b, c],
    executor=dg.multiprocess_executor.configured({"max_concurrent": 1}),
)
"""


@pytest.mark.timeout(60)
def test_a_chain_does_not_jump_ahead_of_steps_waiting_for_a_process(tmp_path: Path) -> None:
    # The plan is a, c, b. With one process, c waits for it while a runs: a's process must not
    # go on to b by itself (a chain), so the steps start in plan order.
    done = run_project(tmp_path, BRANCH_AND_LONER)

    assert done.code == 0, done.output
    assert done.steps(EventType.STEP_START) == ["a", "c", "b"]


# -- failures ---------------------------------------------------------------------------------

BRANCHES = """
@dg.asset
def root() -> int:
    return 1

@dg.asset
def broken(root: int) -> int:
    (HERE / "broken-failed").touch()
    raise ValueError(f"bad input {root}")

@dg.asset
def after_broken(broken: int) -> int:
    return broken

@dg.asset(deps=[after_broken])
def two_after_broken() -> None:
    return None

@dg.asset
def healthy(root: int) -> int:
    # Still running when broken fails: its branch goes on regardless.
    deadline = time.monotonic() + 30
    while not (HERE / "broken-failed").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return root + 1

@dg.asset
def after_healthy(healthy: int) -> int:
    return healthy + 1

defs = dg.Definitions(
    assets=[root, broken, after_broken, two_after_broken, healthy, after_healthy],
    executor=dg.multiprocess_executor.configured({"max_concurrent": 2}),
)
"""


def _without_run_id(run: Finished, text: str) -> str:
    return text.replace(run.run.run_id, "RUN")


@pytest.mark.timeout(60)
def test_a_failure_skips_what_depends_on_it_while_another_branch_completes(
    tmp_path: Path,
) -> None:
    multi = run_project(tmp_path, BRANCHES)
    single = run_project(tmp_path, BRANCHES, executor="in_process")

    assert multi.code == single.code == 1
    assert sorted(multi.steps(EventType.STEP_SUCCESS)) == ["after_healthy", "healthy", "root"]
    [failure] = multi.of_type(EventType.STEP_FAILURE)
    assert failure.message == "Execution of step 'broken' failed: ValueError: bad input 1"
    assert 'raise ValueError(f"bad input {root}")' in "".join(failure.data["error"]["stack"])
    # Skips, failures and the run's end read as they do when executed in process.
    for kind in (EventType.STEP_SKIPPED, EventType.STEP_FAILURE, EventType.RUN_FAILURE):
        assert [_without_run_id(multi, e.message) for e in multi.of_type(kind)] == [
            _without_run_id(single, e.message) for e in single.of_type(kind)
        ]
    assert multi.steps(EventType.STEP_SKIPPED) == ["after_broken", "two_after_broken"]
    assert multi.run.status == RunStatus.FAILURE
    assert multi.events[-1].event_type == EventType.RUN_FAILURE


KILLED = """
@dg.asset
def root() -> int:
    return 1

@dg.asset
def doomed(root: int) -> int:
    os.kill(os.getpid(), signal.SIGKILL)
    return root

@dg.asset
def after_doomed(doomed: int) -> int:
    return doomed

@dg.asset
def survivor(root: int) -> int:
    return root + 1

defs = dg.Definitions(
    assets=[root, doomed, after_doomed, survivor],
    executor=dg.multiprocess_executor.configured({"max_concurrent": 1}),
)
"""


@pytest.mark.timeout(60)
def test_a_worker_process_killed_mid_step_fails_that_step_and_is_replaced(
    tmp_path: Path,
) -> None:
    done = run_project(tmp_path, KILLED)

    assert done.code == 1, done.output
    [failure] = done.of_type(EventType.STEP_FAILURE)
    assert failure.step_key == "doomed"
    pid = failure.data["worker_process_pid"]
    assert f"worker process pid {pid} died with signal 9 while executing step 'doomed'" in (
        failure.message
    )
    assert failure.data["signal"] == "SIGKILL"
    assert done.steps(EventType.STEP_SKIPPED) == ["after_doomed"]
    # One process at a time: the survivor ran in a new process that replaced the dead one.
    assert sorted(done.steps(EventType.STEP_SUCCESS)) == ["root", "survivor"]
    started = [
        e.data["worker_process_pid"]
        for e in done.of_type(EventType.ENGINE)
        if "worker_process_pid" in e.data
    ]
    assert len(started) == 2
    assert pid in started
    assert done.run.status == RunStatus.FAILURE
    assert "steps failed: doomed" in done.of_type(EventType.RUN_FAILURE)[0].message


KILLED_PARTITIONED = """
DAILY = dg.DailyPartitionsDefinition(start_date="2024-01-01")

@dg.asset(partitions_def=DAILY)
def root() -> int:
    return 1

@dg.asset(partitions_def=DAILY)
def doomed(root: int) -> int:
    os.kill(os.getpid(), signal.SIGKILL)
    return root

@dg.asset(partitions_def=DAILY)
def after_doomed(doomed: int) -> int:
    return doomed

defs = dg.Definitions(
    assets=[root, doomed, after_doomed],
    executor=dg.multiprocess_executor.configured({"max_concurrent": 1}),
)
"""


@pytest.mark.timeout(60)
def test_partition_status_of_a_run_whose_worker_process_was_killed(tmp_path: Path) -> None:
    done = run_project(tmp_path, KILLED_PARTITIONED, partition_key="2024-01-03")

    assert done.code == 1, done.output
    planned = done.of_type(EventType.ASSET_MATERIALIZATION_PLANNED)
    assert [(e.asset_key, e.partition_key) for e in planned] == [
        ("root", "2024-01-03"),
        ("doomed", "2024-01-03"),
        ("after_doomed", "2024-01-03"),
    ]
    with Instance.open(f"sqlite:///{tmp_path / 'home' / 'bakehouse.db'}") as instance:
        status = {
            key: instance.get_partition_status(key) for key in ("root", "doomed", "after_doomed")
        }
    # doomed's process died (STEP_FAILURE); after_doomed was skipped and the run failed.
    assert status == {
        "root": {"2024-01-03": PartitionStatus.MATERIALIZED},
        "doomed": {"2024-01-03": PartitionStatus.FAILED},
        "after_doomed": {"2024-01-03": PartitionStatus.FAILED},
    }


# A step whose process dies is retried by its RetryPolicy, as one that raised would be (Dagster
# does so since its PR #24517: "op/asset RetryPolicy respected after the process crashed").
KILLED_ONCE = """
@dg.asset
def root() -> int:
    return 1

@dg.asset(retry_policy=dg.RetryPolicy(max_retries=2))
def flaky(root: int) -> int:
    marker = HERE / "flaky-died"
    if not marker.exists():
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return root + 1

@dg.asset
def after_flaky(flaky: int) -> int:
    return flaky + 1

defs = dg.Definitions(
    assets=[root, flaky, after_flaky],
    executor=dg.multiprocess_executor.configured({"max_concurrent": 1}),
)
"""


@pytest.mark.timeout(60)
def test_a_step_whose_process_died_is_retried_by_its_retry_policy(tmp_path: Path) -> None:
    done = run_project(tmp_path, KILLED_ONCE)

    assert done.code == 0, done.output
    [retry] = done.of_type(EventType.STEP_UP_FOR_RETRY)
    assert retry.step_key == "flaky"
    assert retry.data["error"]["cls_name"] == "WorkerProcessDied"
    assert retry.data["signal"] == "SIGKILL"
    assert (retry.data["attempt"], retry.data["next_attempt"]) == (1, 2)
    assert "has requested a retry (attempt 2 of 3): WorkerProcessDied" in retry.message
    assert done.steps(EventType.STEP_RESTARTED) == ["flaky"]
    assert sorted(done.steps(EventType.STEP_SUCCESS)) == ["after_flaky", "flaky", "root"]
    assert not done.of_type(EventType.STEP_FAILURE)
    # The retry ran in a new process: the dead one was replaced.
    restarted = done.of_type(EventType.STEP_RESTARTED)[0]
    assert restarted.data.get("attempt") == 2
    assert done.run.status == RunStatus.SUCCESS


ALWAYS_KILLED = """
@dg.asset
def doomed() -> int:
    os.kill(os.getpid(), signal.SIGKILL)
    return 1

@dg.asset
def after_doomed(doomed: int) -> int:
    return doomed

@dg.asset(retry_policy=dg.RetryPolicy(max_retries=0))
def its_own_policy_wins() -> int:
    os.kill(os.getpid(), signal.SIGKILL)
    return 1

defs = dg.Definitions(
    assets=[doomed, after_doomed, its_own_policy_wins],
    jobs=[
        dg.define_asset_job(
            "retried_job", selection="*", op_retry_policy=dg.RetryPolicy(max_retries=1)
        )
    ],
    executor=dg.multiprocess_executor.configured({"max_concurrent": 1}),
)
"""


@pytest.mark.timeout(90)
def test_a_step_whose_process_keeps_dying_fails_after_its_jobs_retries(tmp_path: Path) -> None:
    done = run_project(tmp_path, ALWAYS_KILLED, job_name="retried_job")

    assert done.code == 1, done.output
    # The job's op_retry_policy: one retry, then the step fails on its second attempt.
    assert done.steps(EventType.STEP_UP_FOR_RETRY) == ["doomed"]
    failures = {e.step_key: e for e in done.of_type(EventType.STEP_FAILURE)}
    assert set(failures) == {"doomed", "its_own_policy_wins"}
    assert failures["doomed"].data["attempt"] == 2
    assert "died with signal 9 while executing step 'doomed'" in failures["doomed"].message
    # The asset's own policy (no retry) comes before the job's.
    assert "attempt" not in failures["its_own_policy_wins"].data
    assert done.steps(EventType.STEP_SKIPPED) == ["after_doomed"]
    assert done.run.status == RunStatus.FAILURE


# -- resources --------------------------------------------------------------------------------

RESOURCES = """
class Ledger(dg.ConfigurableResource):
    folder: str

    def setup_for_execution(self, context) -> None:
        with open(Path(self.folder) / f"setup-{os.getpid()}", "a") as fh:
            fh.write("setup\\n")

    def teardown_after_execution(self, context) -> None:
        with open(Path(self.folder) / f"teardown-{os.getpid()}", "a") as fh:
            fh.write("teardown\\n")

%s

defs = dg.Definitions(
    assets=[%s],
    resources={"ledger": Ledger(folder=str(HERE / "ledger"))},
    executor=dg.multiprocess_executor.configured({"max_concurrent": 2}),
)
"""

FOUR_USERS = "\n".join(
    f"""
@dg.asset
def user_{i}(ledger: Ledger) -> int:
    meet(2)  # the first two steps overlap, so both worker processes are used
    return os.getpid()
"""
    for i in range(4)
)


@pytest.mark.timeout(60)
def test_resources_are_set_up_once_per_process_and_torn_down_at_the_end(
    tmp_path: Path,
) -> None:
    (tmp_path / "ledger").mkdir()
    source = RESOURCES % (FOUR_USERS, ", ".join(f"user_{i}" for i in range(4)))
    done = run_project(tmp_path, source)

    assert done.code == 0, done.output
    pids = {
        pickle.loads((tmp_path / "home" / "storage" / f"user_{i}").read_bytes()) for i in range(4)
    }
    assert len(pids) == 2
    for pid in pids:
        assert (tmp_path / "ledger" / f"setup-{pid}").read_text() == "setup\n"
        assert (tmp_path / "ledger" / f"teardown-{pid}").read_text() == "teardown\n"
    assert len(list((tmp_path / "ledger").iterdir())) == 4


@pytest.mark.timeout(60)
def test_a_resource_that_cannot_set_up_fails_the_run_as_in_process(tmp_path: Path) -> None:
    source = """
class Broken(dg.ConfigurableResource):
    def setup_for_execution(self, context) -> None:
        raise RuntimeError("no connection")

@dg.asset
def uses(broken: Broken) -> int:
    return 1

defs = dg.Definitions(assets=[uses], resources={"broken": Broken()})
"""
    multi = run_project(tmp_path, source)
    single = run_project(tmp_path, source, executor="in_process")

    assert multi.code == single.code == 1
    [end] = multi.of_type(EventType.RUN_FAILURE)
    assert _without_run_id(multi, end.message) == _without_run_id(
        single, single.of_type(EventType.RUN_FAILURE)[0].message
    )
    assert "resource 'broken' failed to initialize: no connection" in end.message
    assert multi.of_type(EventType.STEP_START) == []


# -- stopping ---------------------------------------------------------------------------------

LONG_STEP = """
class Ledger(dg.ConfigurableResource):
    def teardown_after_execution(self, context) -> None:
        (HERE / f"teardown-{os.getpid()}").write_text("done")

@dg.asset
def slow(ledger: Ledger) -> int:
    (HERE / "step.pid").write_text(str(os.getpid()))
    time.sleep(60)
    return 1

defs = dg.Definitions(assets=[slow], resources={"ledger": Ledger()})
"""


def _written(path: Path) -> str | None:
    return path.read_text() if path.exists() and path.read_text() else None


@pytest.mark.timeout(60)
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_stopping_the_run_worker_stops_its_processes_after_teardown(
    tmp_path: Path, stop_signal: signal.Signals
) -> None:
    (tmp_path / f"{MODULE}.py").write_text(HEADER + LONG_STEP)
    url, run_id = _store_run(tmp_path)
    worker = subprocess.Popen(
        _worker_command(url, run_id, None),
        cwd=tmp_path,
        env=_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        step_pid = int(
            eventually(
                lambda: _written(tmp_path / "step.pid"), timeout=30, message="the step to start"
            )
        )
        worker.send_signal(stop_signal)
        worker.wait(timeout=15)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()

    assert worker.returncode != 0
    eventually(
        lambda: not alive(step_pid),
        timeout=30,
        message=f"worker process {step_pid} outlived the run worker",
    )
    assert (tmp_path / f"teardown-{step_pid}").read_text() == "done"

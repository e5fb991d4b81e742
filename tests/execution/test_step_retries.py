"""Step retries in the in-process and multiprocess executors, through the real run worker and
SQLite: Dagster's documented examples (op retries guide) of a RetryPolicy with delay and backoff,
a RetryRequested from the step, a Failure that allows no retries, and a job's op_retry_policy.

Each attempt is in the event log as Dagster records it: STEP_START, then STEP_UP_FOR_RETRY and
STEP_RESTARTED per retry, then STEP_SUCCESS or STEP_FAILURE.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import bakehouse as dg
from bakehouse.errors import DefinitionError
from bakehouse.storage import Instance
from bakehouse.storage.records import EventType, RunStatus
from tests.execution.test_multiprocess import Finished, run_project
from tests.support.projects import write_project

pytestmark = pytest.mark.slow

EXECUTORS = ["in_process", "multiprocess"]

# Fails until it has been attempted `fails + 1` times; the attempts are counted in a file.
FLAKY = """
def attempts(name):
    counter = HERE / f"{name}.attempts"
    count = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(count))
    return count
"""


def _sequence(done: Finished, step_key: str) -> list[str]:
    kinds = {
        EventType.STEP_START, EventType.STEP_UP_FOR_RETRY, EventType.STEP_RESTARTED,
        EventType.STEP_SUCCESS, EventType.STEP_FAILURE, EventType.STEP_SKIPPED,
    }  # fmt: skip
    return [
        e.event_type.value for e in done.events if e.step_key == step_key and e.event_type in kinds
    ]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("executor", EXECUTORS)
def test_a_retry_policy_retries_after_its_backed_off_delay(tmp_path: Path, executor: str) -> None:
    done = run_project(
        tmp_path,
        FLAKY
        + """
@dg.asset(
    retry_policy=dg.RetryPolicy(max_retries=3, delay=0.3, backoff=dg.Backoff.EXPONENTIAL)
)
def flaky(context) -> int:
    (HERE / f"retry_number.{attempts('flaky')}").write_text(str(context.retry_number))
    if attempts_so_far("flaky") < 3:
        raise ConnectionError("the warehouse hung up")
    return 7


def attempts_so_far(name):
    return int((HERE / f"{name}.attempts").read_text())


@dg.asset
def downstream(flaky: int) -> int:
    return flaky * 2


defs = dg.Definitions(assets=[flaky, downstream])
""",
        executor=executor,
    )
    assert done.run.status == RunStatus.SUCCESS, done.output
    assert _sequence(done, "flaky") == [
        "STEP_START", "STEP_UP_FOR_RETRY", "STEP_RESTARTED",
        "STEP_UP_FOR_RETRY", "STEP_RESTARTED", "STEP_SUCCESS",
    ]  # fmt: skip
    assert _sequence(done, "downstream") == ["STEP_START", "STEP_SUCCESS"]
    retries = done.of_type(EventType.STEP_UP_FOR_RETRY)
    restarts = done.of_type(EventType.STEP_RESTARTED)
    assert [r.data["attempt"] for r in retries] == [1, 2]
    assert [r.data["attempt"] for r in restarts] == [2, 3]
    assert "ConnectionError: the warehouse hung up" in retries[0].data["error"]["message"]
    # Dagster's EXPONENTIAL backoff: (2**n - 1) * delay before retry n.
    assert [r.data["seconds_to_wait"] for r in retries] == pytest.approx([0.3, 0.9])
    for retry, restart, wait in zip(retries, restarts, (0.3, 0.9), strict=True):
        assert restart.timestamp - retry.timestamp >= wait - 0.01
    assert "Started re-execution (attempt # 2) of step 'flaky'" in restarts[0].message
    # context.retry_number counts the attempts before this one.
    assert [(tmp_path / f"retry_number.{n}").read_text() for n in (1, 2, 3)] == ["0", "1", "2"]
    assert not done.of_type(EventType.STEP_FAILURE)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("executor", EXECUTORS)
def test_retry_requested_is_honoured_then_exceeded(tmp_path: Path, executor: str) -> None:
    done = run_project(
        tmp_path,
        FLAKY
        + """
def fails_sometimes():
    raise TimeoutError("the API timed out")


def should_retry(exc):
    return isinstance(exc, TimeoutError)


@dg.asset
def manual() -> int:
    attempts("manual")
    try:
        fails_sometimes()
    except Exception as e:
        if should_retry(e):
            raise dg.RetryRequested(max_retries=1, seconds_to_wait=0.4) from e
        raise
    return 1


@dg.asset
def after(manual: int) -> int:
    return manual


@dg.asset
def independent() -> int:
    return 2


defs = dg.Definitions(assets=[manual, after, independent])
""",
        executor=executor,
    )
    assert done.run.status == RunStatus.FAILURE
    assert _sequence(done, "manual") == [
        "STEP_START", "STEP_UP_FOR_RETRY", "STEP_RESTARTED", "STEP_FAILURE",
    ]  # fmt: skip
    assert (tmp_path / "manual.attempts").read_text() == "2"
    (retry,) = done.of_type(EventType.STEP_UP_FOR_RETRY)
    (restart,) = done.of_type(EventType.STEP_RESTARTED)
    assert retry.data["seconds_to_wait"] == 0.4
    assert restart.timestamp - retry.timestamp >= 0.39
    (failure,) = done.of_type(EventType.STEP_FAILURE)
    assert failure.data["error"]["message"] == "Exceeded max_retries of 1"
    assert failure.data["error"]["cause"]["message"] == "TimeoutError: the API timed out"
    assert _sequence(done, "after") == ["STEP_SKIPPED"]
    assert _sequence(done, "independent") == ["STEP_START", "STEP_SUCCESS"]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("executor", EXECUTORS)
def test_a_failure_that_allows_no_retries_skips_the_policy(tmp_path: Path, executor: str) -> None:
    done = run_project(
        tmp_path,
        FLAKY
        + """
@dg.asset(retry_policy=dg.RetryPolicy(max_retries=3))
def strict() -> int:
    attempts("strict")
    raise dg.Failure(description="the input file is corrupt", allow_retries=False)


@dg.asset(retry_policy=dg.RetryPolicy(max_retries=1))
def lenient() -> int:
    attempts("lenient")
    raise dg.Failure(description="the service is down")


defs = dg.Definitions(assets=[strict, lenient])
""",
        executor=executor,
    )
    assert done.run.status == RunStatus.FAILURE
    assert _sequence(done, "strict") == ["STEP_START", "STEP_FAILURE"]
    assert (tmp_path / "strict.attempts").read_text() == "1"
    assert _sequence(done, "lenient") == [
        "STEP_START", "STEP_UP_FOR_RETRY", "STEP_RESTARTED", "STEP_FAILURE",
    ]  # fmt: skip
    assert (tmp_path / "lenient.attempts").read_text() == "2"
    failure = next(e for e in done.of_type(EventType.STEP_FAILURE) if e.step_key == "strict")
    assert failure.data["error"]["message"] == "Failure: the input file is corrupt"


@pytest.mark.timeout(120)
@pytest.mark.parametrize("executor", EXECUTORS)
def test_a_jobs_op_retry_policy_applies_to_steps_without_their_own(
    tmp_path: Path, executor: str
) -> None:
    done = run_project(
        tmp_path,
        FLAKY
        + """
@dg.asset
def once_flaky() -> int:
    if attempts("once_flaky") < 2:
        raise RuntimeError("cold start")
    return 1


@dg.asset(retry_policy=dg.RetryPolicy(max_retries=0))
def never_retried() -> int:
    attempts("never_retried")
    raise RuntimeError("always broken")


defs = dg.Definitions(
    assets=[once_flaky, never_retried],
    jobs=[dg.define_asset_job("nightly", op_retry_policy=dg.RetryPolicy(max_retries=2))],
)
""",
        executor=executor,
        job_name="nightly",
    )
    assert done.run.status == RunStatus.FAILURE, done.output
    assert _sequence(done, "once_flaky") == [
        "STEP_START", "STEP_UP_FOR_RETRY", "STEP_RESTARTED", "STEP_SUCCESS",
    ]  # fmt: skip
    # The asset's own policy wins over the job's.
    assert _sequence(done, "never_retried") == ["STEP_START", "STEP_FAILURE"]


def test_bad_retry_arguments_are_refused_by_name() -> None:
    with pytest.raises(DefinitionError, match="max_retries"):
        dg.RetryRequested(max_retries=-1)
    with pytest.raises(DefinitionError, match="seconds_to_wait"):
        dg.RetryRequested(seconds_to_wait=-2)
    with pytest.raises(DefinitionError, match="op_retry_policy must be a RetryPolicy"):
        dg.define_asset_job("nightly", op_retry_policy=3)  # type: ignore[arg-type]


@pytest.mark.timeout(180)
def test_bh_launch_shows_each_retry_and_the_run_succeeds(tmp_path: Path) -> None:
    """Dagster's guide example (``RetryPolicy(max_retries=3, delay=0.2, backoff=Backoff.
    EXPONENTIAL, jitter=Jitter.PLUS_MINUS)``) through `bh launch` and its default executor."""
    project = write_project(
        tmp_path / "mill",
        "mill",
        {
            "defs/assets.py": """
from pathlib import Path

import bakehouse as dg

COUNTER = Path(__file__).parent / "attempts"


@dg.asset(
    retry_policy=dg.RetryPolicy(
        max_retries=3, delay=0.2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
    )
)
def better() -> int:
    count = int(COUNTER.read_text()) + 1 if COUNTER.exists() else 1
    COUNTER.write_text(str(count))
    if count < 2:
        raise RuntimeError("fails sometimes")
    return count
"""
        },
    )
    (project / ".bakehouse").mkdir()
    sqlite = f"sqlite:///{project / '.bakehouse' / 'bakehouse.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAKEHOUSE_")}
    launched = subprocess.run(
        [sys.executable, "-m", "bakehouse", "launch", "--assets", "*"],
        cwd=project, capture_output=True, text=True, timeout=150,
        env={**env, "BAKEHOUSE_STORAGE_URL": sqlite},
    )  # fmt: skip
    assert launched.returncode == 0, launched.stdout + launched.stderr
    assert "↻ better" in launched.stdout
    assert "fails sometimes" in launched.stdout
    assert "✓ better" in launched.stdout
    assert "1 step succeeded, 0 failed, 0 skipped" in launched.stdout
    with Instance.open(sqlite) as instance:
        (run,) = instance.get_runs()
        assert run.status == RunStatus.SUCCESS
        kinds = [e.event_type for e in instance.get_events(run.run_id) if e.step_key == "better"]
    assert EventType.STEP_RESTARTED in kinds
    assert kinds.count(EventType.STEP_UP_FOR_RETRY) == 1

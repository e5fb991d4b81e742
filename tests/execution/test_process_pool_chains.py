"""Chains in the multiprocess executor's pool, with real forked processes and a real SQLite file:
a process whose step succeeds goes on by itself to the step that waits for that one alone, reports
the chain's steps in order when it ends, stops when held or when a step fails, and when it dies
mid-chain the steps it finished are reported done and the one it died in lost."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import bakehouse as dg
from bakehouse.execution.multiprocess import MultiprocessExecutor
from bakehouse.execution.process_pool import ProcessPool, Report, StepDone, StepLost
from bakehouse.execution.run import plan_steps
from bakehouse.execution.step_process import StorageAddress
from bakehouse.storage import Instance
from bakehouse.storage.records import EventType, RunRecord, RunStatus
from tests.support.waiting import eventually

pytestmark = pytest.mark.skipif(
    MultiprocessExecutor().start_method != "fork", reason="the steps are defined in this module"
)

GATE = "BAKEHOUSE_TEST_CHAIN_GATE"


def _wait_for_gate() -> None:
    gate = Path(os.environ[GATE])
    gate.with_name("waiting").touch()
    deadline = time.monotonic() + 30
    while not gate.exists():
        if time.monotonic() > deadline:
            raise RuntimeError("the gate never opened")
        time.sleep(0.01)


@dg.asset
def a() -> int:
    return 1


@dg.asset
def b(a: int) -> int:
    if os.environ.get("CHAIN_B") == "gate":
        _wait_for_gate()
    if os.environ.get("CHAIN_B") == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get("CHAIN_B") == "fail":
        raise ValueError("b fails")
    return a + 1


@dg.asset
def c(b: int) -> int:
    if os.environ.get("CHAIN_C") == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    return b + 1


@pytest.fixture
def pool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ProcessPool]:
    monkeypatch.setenv(GATE, str(tmp_path / "gate"))
    url = f"sqlite:///{tmp_path / 'bakehouse.db'}"
    with Instance.open(url, storage_dir=tmp_path / "storage") as instance:
        instance.create_run(RunRecord(run_id="r", status=RunStatus.STARTED))
    defs = dg.Definitions(assets=[a, b, c])
    steps = plan_steps(defs, [x.key for x in (a, b, c)], run_id="r")
    storage = StorageAddress(url=url, storage_dir=str(tmp_path / "storage"))
    with ProcessPool(steps, size=2, storage=storage, start_method="fork", location=None) as p:
        yield p
        p.close()


def _reports_until_idle(pool: ProcessPool) -> list[Report]:
    reports: list[Report] = []
    deadline = time.monotonic() + 30
    while pool.busy and time.monotonic() < deadline:
        reports += pool.wait(1.0)
    assert not pool.busy, reports
    return reports


def _succeeded(tmp_path: Path) -> list[str]:
    with Instance.open(f"sqlite:///{tmp_path / 'bakehouse.db'}") as instance:
        events = instance.get_events("r")
    return [e.step_key or "" for e in events if e.event_type == EventType.STEP_SUCCESS]


def test_a_chained_process_runs_each_next_step_without_being_sent_it(
    pool: ProcessPool, tmp_path: Path
) -> None:
    pool.submit("a", chain=True)
    assert _reports_until_idle(pool) == [
        StepDone("a", ok=True, chained="b"),
        StepDone("b", ok=True, chained="c"),
        StepDone("c", ok=True, chained=None),
    ]
    assert _succeeded(tmp_path) == ["a", "b", "c"]


def test_without_chain_a_process_waits_to_be_sent_the_next_step(
    pool: ProcessPool, tmp_path: Path
) -> None:
    pool.submit("a")
    assert _reports_until_idle(pool) == [StepDone("a", ok=True, chained=None)]
    assert _succeeded(tmp_path) == ["a"]


def test_a_held_process_ends_its_chain_after_its_current_step(
    pool: ProcessPool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHAIN_B", "gate")
    pool.submit("a", chain=True)
    eventually((tmp_path / "waiting").exists, message="b never reached its gate", timeout=30)
    assert pool.wait(0) == []  # nothing said between the steps of a chain
    assert pool.busy == 1
    pool.hold()
    (tmp_path / "gate").touch()
    assert _reports_until_idle(pool) == [
        StepDone("a", ok=True, chained="b"),
        StepDone("b", ok=True, chained=None),
    ]
    assert _succeeded(tmp_path) == ["a", "b"]
    # Still serving: the step it was not sent is sent now.
    pool.submit("c")
    assert _reports_until_idle(pool) == [StepDone("c", ok=True, chained=None)]


def test_a_failed_step_ends_its_chain(
    pool: ProcessPool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHAIN_B", "fail")
    pool.submit("a", chain=True)
    assert _reports_until_idle(pool) == [
        StepDone("a", ok=True, chained="b"),
        StepDone("b", ok=False, chained=None),
    ]


def test_a_chained_step_whose_process_dies_is_the_step_lost(
    pool: ProcessPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHAIN_B", "die")
    pool.submit("a", chain=True)
    reports = _reports_until_idle(pool)
    assert reports[0] == StepDone("a", ok=True, chained="b")
    [lost] = reports[1:]
    assert isinstance(lost, StepLost)
    assert (lost.step_key, lost.exitcode) == ("b", -signal.SIGKILL)


def test_a_process_that_dies_further_down_its_chain_reports_the_steps_it_finished(
    pool: ProcessPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHAIN_C", "die")
    pool.submit("a", chain=True)
    reports = _reports_until_idle(pool)
    assert reports[:2] == [StepDone("a", ok=True, chained="b"), StepDone("b", ok=True, chained="c")]
    [lost] = reports[2:]
    assert isinstance(lost, StepLost)
    assert lost.step_key == "c"
    # A new process takes the next request, its count started afresh.
    pool.submit("a")
    assert _reports_until_idle(pool) == [StepDone("a", ok=True, chained=None)]

"""A location whose latest reload failed serves its last good definitions, but its files no
longer load, and a run worker imports the files anew: every entry point refuses to launch into
it up front, with the reason, and a run queued before the break waits instead of failing. No
run that must fail is stored, and no asset shows failed for a run it never had."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bakehouse.daemon.scheduler import Scheduler
from bakehouse.daemon.sensors import SensorDaemon
from bakehouse.errors import LaunchError
from bakehouse.host.deployment import Deployment
from bakehouse.host.supervisor import LocationStatus
from bakehouse.project.workspace import find_workspace
from bakehouse.storage import Instance, RunRecord
from bakehouse.storage.records import EventType, RunStatus
from tests.daemon.conftest import FakeClock
from tests.support.projects import write_project
from tests.support.waiting import eventually
from tests.web.server import serve

pytestmark = pytest.mark.slow

BAKERY = {
    "defs/bread.py": """\
        import bakehouse as dg


        @dg.asset
        def bread() -> int:
            return 1


        letters = dg.StaticPartitionsDefinition(["a", "b"])


        @dg.asset(partitions_def=letters)
        def rolls() -> int:
            return 2


        bread_job = dg.define_asset_job("bread_job", selection="bread")


        @dg.schedule(cron_schedule="* * * * *", job=bread_job,
                     default_status=dg.DefaultScheduleStatus.RUNNING)
        def every_minute(context):
            return dg.RunRequest()


        @dg.sensor(job=bread_job, minimum_interval_seconds=1,
                   default_status=dg.DefaultSensorStatus.RUNNING)
        def always(context):
            return dg.RunRequest()
        """
}
BROKEN = "\ndef half_written(:\n"
REASON = "code location 'bakery' cannot run now: it serves its last good definitions"


@dataclass
class Broken:
    """The deployment after bread.py broke and the reload failed, served over HTTP."""

    root: Path
    deployment: Deployment
    http: httpx.Client
    url: str
    # Queued while the definitions still loaded, before the break.
    queued_before: RunRecord

    def run_ids(self) -> set[str]:
        return {r.run_id for r in self.deployment.instance.get_runs(limit=None)}

    def bread_file(self) -> Path:
        return self.root / "src/bakery/defs/bread.py"


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broken]:
    root = write_project(
        tmp_path_factory.mktemp("last_good") / "bakery", "bakery", BAKERY, defs_errors="fail"
    )
    with Instance.for_home(root / ".bakehouse") as instance:
        deployment = Deployment(find_workspace(root), instance, daemon=False)
        deployment.start()
        try:
            queued = deployment.launch(selection="bread", tags={"bakehouse/launched_by": "ui"})
            bread = root / "src/bakery/defs/bread.py"
            bread.write_text(bread.read_text() + BROKEN)
            state = deployment.reload("bakery")
            assert state.status is LocationStatus.FAILED
            assert state.serving_last_good
            with serve(deployment) as url, httpx.Client(base_url=url, timeout=120) as http:
                yield Broken(root, deployment, http, url, queued)
        finally:
            deployment.stop()


def test_the_launch_service_refuses_with_the_load_error(broken: Broken) -> None:
    before = broken.run_ids()
    with pytest.raises(LaunchError) as refused:
        broken.deployment.launch(selection="bread")
    message = str(refused.value)
    assert message.startswith(REASON)
    # The reason names the broken file and line, as the location's error does.
    assert "bread.py" in message
    assert "SyntaxError" in message
    assert broken.run_ids() == before


def test_the_api_refuses_with_a_400(broken: Broken) -> None:
    before = broken.run_ids()
    answer = broken.http.post("/api/runs", json={"job": "bread_job"})
    assert answer.status_code == 400
    assert answer.json()["detail"].startswith(REASON)
    assert broken.run_ids() == before


def test_bh_launch_through_the_deployment_refuses(broken: Broken) -> None:
    before = broken.run_ids()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAKEHOUSE_")}
    done = subprocess.run(
        [sys.executable, "-m", "bakehouse", "launch", "--url", broken.url, "--assets", "bread"],
        cwd=broken.root,
        env={**env, "COLUMNS": "400"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert REASON in " ".join(done.stderr.split())
    assert broken.run_ids() == before


def test_a_schedule_and_a_sensor_tick_fail_with_the_reason(broken: Broken) -> None:
    before = broken.run_ids()
    instance, supervisor = broken.deployment.instance, broken.deployment.supervisor
    clock = FakeClock(5_000_000.0)
    scheduler = Scheduler(instance, supervisor, clock=clock)
    scheduler.tick()  # a schedule that starts running starts from now
    clock.now += 60
    (tick,) = scheduler.tick()
    assert tick.error is not None
    assert REASON in tick.error["message"]
    (sensed,) = SensorDaemon(instance, supervisor, clock=clock).tick()
    assert sensed.error is not None
    assert REASON in sensed.error["message"]
    assert broken.run_ids() == before


def test_a_backfill_and_a_reexecution_are_refused(broken: Broken) -> None:
    before = broken.run_ids()
    answer = broken.http.post(
        "/api/backfills",
        json={"selection": "rolls", "partition_range": {"start": "a", "end": "b"}},
    )
    assert answer.status_code == 400
    assert answer.json()["detail"].startswith(REASON)
    assert broken.deployment.instance.get_backfills() == []
    again = broken.http.post(f"/api/runs/{broken.queued_before.run_id}/reexecute", json={})
    assert again.status_code == 400
    assert again.json()["detail"].startswith(REASON)
    assert broken.run_ids() == before


def test_a_run_queued_before_the_break_waits_then_runs_once_fixed(broken: Broken) -> None:
    """Last in this module: it fixes the file."""
    instance, queue = broken.deployment.instance, broken.deployment.run_queue
    run_id = broken.queued_before.run_id
    assert queue.tick() == []
    assert queue.tick() == []
    assert instance.get_run(run_id).status is RunStatus.QUEUED
    waiting = [e for e in instance.get_events(run_id) if e.event_type is EventType.ENGINE]
    assert len(waiting) == 1  # said once, not at every tick
    assert "Waiting: code location 'bakery' failed to reload" in waiting[0].message
    bread = broken.bread_file()
    bread.write_text(bread.read_text().replace(BROKEN, ""))
    assert broken.deployment.reload("bakery").status is LocationStatus.LOADED
    assert queue.tick() == [run_id]
    eventually(
        lambda: instance.get_run(run_id).status is RunStatus.SUCCESS,
        message="the run queued before the break succeeds once the location loads again",
    )
    # And the launch service takes new launches again.
    assert broken.deployment.launch(selection="bread").status is RunStatus.QUEUED

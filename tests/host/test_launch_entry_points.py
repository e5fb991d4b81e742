"""Every entry point launches through the one launch service: an unknown asset, a partition the
assets do not have and invalid run config are refused with the same message, and no run is
stored (bh launch, the API, a schedule, a sensor, a backfill, a re-execution)."""

from __future__ import annotations

import json
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
from bakehouse.host.launching import plan_run
from bakehouse.project.workspace import find_workspace
from bakehouse.storage import Instance, RunRecord
from tests.daemon.conftest import FakeClock
from tests.support.projects import write_project
from tests.web.server import serve

BAD_CONFIG = {"ops": {"sales": {"config": {"rows": "many"}}}}
# What each refusal is about: (selection, partition key, run config) of a launch.
CASES = {
    "unknown asset": ("nope", "a", {}),
    "unknown partition": ("sales", "zz", {}),
    "invalid config": ("sales", "a", BAD_CONFIG),
}

SALES = {
    "defs/sales.py": f"""\
        import bakehouse as dg


        class SalesConfig(dg.Config):
            rows: int = 1


        letters = dg.StaticPartitionsDefinition(["a", "b"])


        @dg.asset(partitions_def=letters)
        def sales(config: SalesConfig) -> int:
            return config.rows


        sales_job = dg.define_asset_job("sales_job", selection="sales", partitions_def=letters)
        REQUESTS = {{
            "unknown_asset": dg.RunRequest(asset_selection=["nope"], partition_key="a"),
            "unknown_partition": dg.RunRequest(partition_key="zz"),
            "invalid_config": dg.RunRequest(partition_key="a", run_config={BAD_CONFIG!r}),
        }}


        def _schedule(case):
            @dg.schedule(cron_schedule="* * * * *", job=sales_job, name=f"{{case}}_schedule",
                         default_status=dg.DefaultScheduleStatus.RUNNING)
            def fn(context):
                return REQUESTS[case]
            return fn


        def _sensor(case):
            @dg.sensor(job=sales_job, name=f"{{case}}_sensor", minimum_interval_seconds=1,
                       default_status=dg.DefaultSensorStatus.RUNNING)
            def fn(context):
                return REQUESTS[case]
            return fn


        # The defs folder collects definitions bound to module-level names.
        unknown_asset_schedule = _schedule("unknown_asset")
        unknown_partition_schedule = _schedule("unknown_partition")
        invalid_config_schedule = _schedule("invalid_config")
        unknown_asset_sensor = _sensor("unknown_asset")
        unknown_partition_sensor = _sensor("unknown_partition")
        invalid_config_sensor = _sensor("invalid_config")
        """
}


@dataclass
class Served:
    """The project's deployment (no daemon loops), served over HTTP."""

    root: Path
    deployment: Deployment
    http: httpx.Client

    def run_ids(self) -> list[str]:
        return [r.run_id for r in self.deployment.instance.get_runs(limit=None)]

    def expected(self, case: str) -> str:
        """The message the launch service gives for `case`: every entry point must show it."""
        selection, partition, config = CASES[case]
        with pytest.raises(LaunchError) as refused:
            plan_run(
                self.deployment.graph(),
                dynamic_keys=self.deployment.instance.get_dynamic_partitions,
                selection=selection,
                partition_key=partition,
                run_config=config,
            )
        return str(refused.value)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = write_project(tmp_path_factory.mktemp("refusals") / "shop", "refusals", SALES)
    with Instance.for_home(root / ".bakehouse") as instance:
        deployment = Deployment(find_workspace(root), instance, daemon=False)
        deployment.start()
        try:
            with serve(deployment) as url, httpx.Client(base_url=url, timeout=120) as http:
                yield Served(root, deployment, http)
        finally:
            deployment.stop()


def test_the_service_refuses_each_case_with_a_message_naming_it(served: Served) -> None:
    assert served.expected("unknown asset").startswith("no asset with key 'nope'")
    assert served.expected("unknown partition").startswith("unknown partition key 'zz' (a … b")
    assert served.expected("invalid config").startswith(
        "invalid config for asset 'sales': field 'rows': expected integer"
    )
    assert served.run_ids() == []


@pytest.mark.parametrize("case", list(CASES))
def test_the_api_refuses_with_the_services_message(served: Served, case: str) -> None:
    selection, partition, config = CASES[case]
    answer = served.http.post(
        "/api/runs",
        json={"selection": selection, "partition_key": partition, "run_config": config},
    )
    assert answer.status_code == 400
    assert answer.json()["detail"] == served.expected(case)
    assert served.run_ids() == []


def _bh(served: Served, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAKEHOUSE_")}
    return subprocess.run(
        [sys.executable, "-m", "bakehouse", *args],
        cwd=served.root,
        env={**env, "COLUMNS": "400"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("case", list(CASES))
def test_bh_launch_refuses_with_the_services_message(served: Served, case: str) -> None:
    selection, partition, config = CASES[case]
    args = ["launch", "--local", "--assets", selection, "--partition", partition]
    done = _bh(served, *args, *(["--config-json", json.dumps(config)] if config else []))
    assert done.returncode == 2, done.stdout + done.stderr
    assert served.expected(case) in " ".join(done.stderr.split())
    assert served.run_ids() == []


@pytest.mark.parametrize("case", list(CASES))
def test_a_schedule_tick_fails_with_the_services_message(served: Served, case: str) -> None:
    name = f"refusals:{case.replace(' ', '_')}_schedule"
    # Later cases later in time: the schedules' stored state carries over between cases.
    clock = FakeClock(3_000_000.0 + 1_000 * list(CASES).index(case))
    scheduler = Scheduler(served.deployment.instance, served.deployment.supervisor, clock=clock)
    scheduler.tick()  # a schedule that starts running starts from now
    clock.now += 60
    tick = {t.origin: t for t in scheduler.tick()}[name]
    assert tick.error is not None
    assert tick.error["message"] == f"LaunchError: {served.expected(case)}"
    assert served.run_ids() == []


@pytest.mark.parametrize("case", list(CASES))
def test_a_sensor_tick_fails_with_the_services_message(served: Served, case: str) -> None:
    name = f"refusals:{case.replace(' ', '_')}_sensor"
    clock = FakeClock(4_000_000.0 + 1_000 * list(CASES).index(case))
    sensors = SensorDaemon(served.deployment.instance, served.deployment.supervisor, clock=clock)
    tick = {t.origin: t for t in sensors.tick()}[name]
    assert tick.error is not None
    assert tick.error["message"] == f"LaunchError: {served.expected(case)}"
    assert served.run_ids() == []


@pytest.mark.parametrize("case", list(CASES))
def test_a_backfill_is_refused_with_the_services_message(served: Served, case: str) -> None:
    selection, partition, config = CASES[case]
    answer = served.http.post(
        "/api/backfills",
        json={
            "selection": selection,
            "partition_range": {"start": "a", "end": partition if partition != "a" else "b"},
            "run_config": config,
        },
    )
    assert answer.status_code == 400
    assert answer.json()["detail"] == served.expected(case)
    assert served.deployment.instance.get_backfills() == []
    assert served.run_ids() == []


@pytest.mark.parametrize("through", ["api", "cli"])
@pytest.mark.parametrize("case", list(CASES))
def test_a_reexecution_is_refused_with_the_services_message(
    served: Served, case: str, through: str
) -> None:
    selection, partition, config = CASES[case]
    instance = served.deployment.instance
    # A run of definitions as they were: the asset, partition or config fit then, not now.
    parent = instance.create_run(
        RunRecord(
            run_id=f"parent-{case.replace(' ', '-')}",
            asset_selection=(selection,),
            partition_key=partition,
            run_config=config,
        )
    )
    try:
        if through == "api":
            answer = served.http.post(f"/api/runs/{parent.run_id}/reexecute", json={})
            assert answer.status_code == 400
            message = answer.json()["detail"]
        else:
            done = _bh(served, "runs", "reexecute", parent.run_id, "--local")
            assert done.returncode == 2, done.stdout + done.stderr
            message = " ".join(done.stderr.split())
        assert served.expected(case) in message
        assert served.run_ids() == [parent.run_id]
    finally:
        instance.delete_run(parent.run_id)

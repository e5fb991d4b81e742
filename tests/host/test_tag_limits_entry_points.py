"""Every entry point refuses a caller's oversized tags with the launch service's one message,
quoting at most 200 characters of them, and stores nothing: bh launch (here and through a
running deployment), the API, a schedule's and a sensor's run request, a backfill (the API and
bh launch --partition-range)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bakehouse.daemon.scheduler import Scheduler
from bakehouse.daemon.sensors import SensorDaemon
from bakehouse.host.deployment import Deployment
from bakehouse.host.tag_limits import tag_problem
from bakehouse.project.workspace import find_workspace
from bakehouse.storage import Instance
from tests.daemon.conftest import FakeClock
from tests.support.faults import bh
from tests.support.projects import write_project
from tests.web.server import serve

LONG = 5000
# The tags of each refusal; the project's run requests carry the same (written as literals).
CASES: dict[str, dict[str, str]] = {
    "too many": {f"t{n}": "v" for n in range(101)},
    "long key": {"k" * LONG: "v"},
    "long value": {"team": "v" * LONG},
}


def _tags(case: str) -> dict[str, str]:
    return CASES[case]


def _schedules_and_sensors() -> str:
    lines = []
    for case, tags in CASES.items():
        name = case.replace(" ", "_")
        literal = repr(tags)
        lines += [
            f"{name}_schedule = dg.ScheduleDefinition(",
            f"    name='{name}_schedule', cron_schedule='* * * * *', job=sales_job,",
            "    default_status=dg.DefaultScheduleStatus.RUNNING,",
            f"    execution_fn=lambda context: dg.RunRequest(partition_key='a', tags={literal}),",
            ")",
            "",
            "",
            f"@dg.sensor(job=sales_job, name='{name}_sensor', minimum_interval_seconds=1,",
            "           default_status=dg.DefaultSensorStatus.RUNNING)",
            f"def {name}_sensor(context):",
            f"    return dg.RunRequest(partition_key='a', tags={literal})",
            "",
            "",
        ]
    return "\n".join(lines)


SALES = {
    "defs/sales.py": "import bakehouse as dg\n\n\n"
    "letters = dg.StaticPartitionsDefinition(['a', 'b'])\n\n\n"
    "@dg.asset(partitions_def=letters)\n"
    "def sales() -> int:\n"
    "    return 1\n\n\n"
    "sales_job = dg.define_asset_job('sales_job', selection='sales', partitions_def=letters)\n\n\n"
    + _schedules_and_sensors()
}


@dataclass
class Served:
    """The project's deployment (no daemon loops), served over HTTP."""

    root: Path
    deployment: Deployment
    url: str
    http: httpx.Client

    def run_ids(self) -> list[str]:
        return [r.run_id for r in self.deployment.instance.get_runs(limit=None)]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = write_project(tmp_path_factory.mktemp("tags") / "shop", "tagged", SALES)
    with Instance.for_home(root / ".bakehouse") as instance:
        deployment = Deployment(find_workspace(root), instance, daemon=False)
        deployment.start()
        try:
            with serve(deployment) as url, httpx.Client(base_url=url, timeout=120) as http:
                yield Served(root, deployment, url, http)
        finally:
            deployment.stop()


def _expected(case: str) -> str:
    problem = tag_problem(_tags(case))
    assert problem is not None
    return problem


def _quotes_little(message: str) -> None:
    assert "k" * 201 not in message
    assert "v" * 201 not in message
    assert len(message) < 600


def _bh(served: Served, *args: str) -> subprocess.CompletedProcess[str]:
    return bh(*args, cwd=served.root, env={"COLUMNS": "400"})


def _tag_args(case: str) -> list[str]:
    return [arg for key, value in _tags(case).items() for arg in ("--tag", f"{key}={value}")]


def test_the_service_names_each_fault_quoting_at_most_200_characters() -> None:
    assert _expected("too many") == "101 tags given; at most 100 are allowed"
    assert _expected("long key").startswith("tag key 'kkk")
    assert f"({LONG} characters)" in _expected("long key")
    assert _expected("long value").endswith(f"a value is at most 63 characters, got {LONG}")
    for case in CASES:
        _quotes_little(_expected(case))
    assert tag_problem({f"t{n}": "v" * 63 for n in range(100)}) is None
    assert tag_problem({"p" * 63 + "/" + "n" * 63: ""}) is None


@pytest.mark.parametrize("case", list(CASES))
def test_the_api_refuses_a_run_with_the_services_message(served: Served, case: str) -> None:
    answer = served.http.post(
        "/api/runs", json={"selection": "sales", "partition_key": "a", "tags": _tags(case)}
    )
    assert answer.status_code == 400
    assert answer.json()["detail"] == _expected(case)
    _quotes_little(answer.text)
    assert served.run_ids() == []


@pytest.mark.parametrize("through", ["here", "deployment"])
@pytest.mark.parametrize("case", list(CASES))
def test_bh_launch_refuses_with_the_services_message(
    served: Served, case: str, through: str
) -> None:
    where = ["--local"] if through == "here" else ["--url", served.url]
    done = _bh(served, "launch", *where, "--assets", "sales", "--partition", "a", *_tag_args(case))
    assert done.returncode != 0, done.stdout + done.stderr
    said = " ".join(done.stderr.split())
    assert _expected(case) in said
    _quotes_little(said)
    assert served.run_ids() == []


@pytest.mark.parametrize("case", list(CASES))
def test_a_schedules_run_request_fails_its_tick_with_the_services_message(
    served: Served, case: str
) -> None:
    name = f"tagged:{case.replace(' ', '_')}_schedule"
    clock = FakeClock(3_000_000.0 + 1_000 * list(CASES).index(case))
    scheduler = Scheduler(served.deployment.instance, served.deployment.supervisor, clock=clock)
    scheduler.tick()  # a schedule that starts running starts from now
    clock.now += 60
    tick = {t.origin: t for t in scheduler.tick()}[name]
    assert tick.error is not None
    assert tick.error["message"] == f"LaunchError: {_expected(case)}"
    assert served.run_ids() == []


@pytest.mark.parametrize("case", list(CASES))
def test_a_sensors_run_request_fails_its_tick_with_the_services_message(
    served: Served, case: str
) -> None:
    name = f"tagged:{case.replace(' ', '_')}_sensor"
    clock = FakeClock(4_000_000.0 + 1_000 * list(CASES).index(case))
    sensors = SensorDaemon(served.deployment.instance, served.deployment.supervisor, clock=clock)
    tick = {t.origin: t for t in sensors.tick()}[name]
    assert tick.error is not None
    assert tick.error["message"] == f"LaunchError: {_expected(case)}"
    assert served.run_ids() == []


@pytest.mark.parametrize("case", list(CASES))
def test_a_backfill_is_refused_with_the_services_message(served: Served, case: str) -> None:
    answer = served.http.post(
        "/api/backfills",
        json={
            "selection": "sales",
            "partition_range": {"start": "a", "end": "b"},
            "tags": _tags(case),
        },
    )
    assert answer.status_code == 400
    assert answer.json()["detail"] == _expected(case)
    done = _bh(
        served, "launch", "--local", "--assets", "sales", "--partition-range", "a...b",
        *_tag_args(case),
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert _expected(case) in " ".join(done.stderr.split())
    assert served.deployment.instance.get_backfills() == []
    assert served.run_ids() == []


def test_tags_within_the_limits_and_bakehouses_own_are_kept(served: Served) -> None:
    tags = {f"t{n}": "v" * 63 for n in range(100)}
    # As `bh launch` sends them through a deployment: its own tag does not count as the caller's.
    answer = served.http.post(
        "/api/runs",
        json={
            "selection": "sales",
            "partition_key": "a",
            "tags": {**tags, "bakehouse/launched_by": "cli"},
        },
    )
    assert answer.status_code == 201, answer.text
    run = served.deployment.instance.get_run(answer.json()["run_id"])
    try:
        assert {k: run.tags[k] for k in tags} == tags
        assert run.tags["bakehouse/launched_by"] == "cli"
    finally:
        served.deployment.instance.delete_run(run.run_id)

"""``/api/automation`` and the start/stop endpoints over a real deployment (code server, SQLite,
daemon loops)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bakehouse.host.deployment import Deployment
from bakehouse.project.workspace import find_workspace
from bakehouse.storage import Instance
from tests.support.projects import write_project
from tests.support.waiting import eventually
from tests.web.server import serve

pytestmark = pytest.mark.slow

FILES = {
    "defs/auto.py": """\
        import bakehouse as dg


        @dg.asset
        def loaf() -> int:
            return 1


        bake = dg.define_asset_job("bake", selection=[loaf])
        nightly = dg.ScheduleDefinition(name="nightly", job=bake, cron_schedule="0 3 * * *")


        @dg.sensor(job=bake, minimum_interval_seconds=1,
                   default_status=dg.DefaultSensorStatus.RUNNING)
        def broken(context):
            raise ValueError("no signal")
        """
}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[httpx.Client]:
    root = write_project(tmp_path / "auto", "api_auto", FILES)
    with Instance.for_home(root / ".bakehouse") as instance:
        deployment = Deployment(find_workspace(root), instance, heartbeat_interval=0.5)
        deployment.start()
        try:
            with serve(deployment) as url, httpx.Client(base_url=url, timeout=60) as http:
                yield http
        finally:
            deployment.stop()


def _item(client: httpx.Client, name: str, **params: int) -> dict:  # type: ignore[type-arg]
    items = client.get("/api/automation", params=params).json()
    return next(i for i in items if i["name"] == name)


def test_automation_lists_state_and_failed_ticks_with_their_traceback(
    client: httpx.Client,
) -> None:
    nightly = _item(client, "nightly")
    assert (nightly["type"], nightly["status"], nightly["next_tick"]) == (
        "schedule",
        "STOPPED",
        None,
    )
    assert nightly["cron_schedule"] == "0 3 * * *"
    ticks = eventually(
        lambda: _item(client, "broken")["ticks"], timeout=30, message="a tick of broken"
    )
    tick = ticks[0]
    assert tick["status"] == "FAILURE"
    assert tick["error"]["cls_name"] == "ValueError"
    assert tick["error"]["message"] == "ValueError: no signal"
    assert "raise ValueError" in tick["error"]["traceback"]
    assert _item(client, "broken", ticks=0)["ticks"] == []
    assert client.get("/api/automation", params={"ticks": -1}).status_code == 422


def test_start_and_stop_store_the_state_and_a_second_start_keeps_the_schedules_place(
    client: httpx.Client,
) -> None:
    started = client.post("/api/schedules/api_auto/nightly/start")
    assert started.status_code == 200
    assert started.json()["status"] == "RUNNING"
    assert started.json()["next_tick"] > time.time()
    again = client.post("/api/schedules/api_auto/nightly/start").json()
    assert again["status"] == "RUNNING"
    assert client.post("/api/sensors/api_auto/broken/stop").json()["status"] == "STOPPED"
    assert client.post("/api/schedules/api_auto/nightly/stop").json()["next_tick"] is None


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/api/widgets/api_auto/nightly/start", "unknown kind 'widgets'"),
        ("/api/schedules/api_auto/nope/start", "no schedule 'nope' in location 'api_auto'"),
        ("/api/sensors/api_auto/nightly/stop", "no sensor 'nightly' in location 'api_auto'"),
        ("/api/schedules/elsewhere/nightly/start", "no schedule 'nightly' in location"),
    ],
)
def test_unknown_kinds_and_names_are_404s(client: httpx.Client, path: str, message: str) -> None:
    answer = client.post(path)
    assert answer.status_code == 404
    assert message in answer.json()["detail"]

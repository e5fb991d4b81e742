"""The deployment's Celery workers, as their heartbeats in storage describe them: `GET
/api/workers` and the Workers card of the Code locations page."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bakehouse.host.deployment import Deployment
from bakehouse.project.workspace import find_workspace
from bakehouse.storage import Instance
from bakehouse.storage.records import WorkerRecord
from tests.support.projects import write_project, write_workspace
from tests.web.server import serve

MILL = {
    "defs/assets.py": "import bakehouse as dg\n\n@dg.asset\ndef flour() -> int:\n    return 1\n"
}


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[Instance]:
    with Instance.for_home(tmp_path / ".bakehouse") as opened:
        yield opened


@pytest.fixture
def client(tmp_path: Path, instance: Instance) -> Iterator[httpx.Client]:
    write_project(tmp_path / "mill", "workers_mill", MILL)
    write_workspace(tmp_path, ["mill"])
    deployment = Deployment(find_workspace(tmp_path), instance, heartbeat_interval=0.5)
    deployment.start()
    try:
        with serve(deployment) as url, httpx.Client(base_url=url, timeout=120) as http:
            yield http
    finally:
        deployment.stop()


def _worker(worker_id: str, heartbeat_at: float, **kw: object) -> WorkerRecord:
    return WorkerRecord(
        worker_id=worker_id, hostname="box-1", host_id="m1", pid=7, location="mill",
        queues=("mill",), concurrency=2, started_at=heartbeat_at - 60,
        heartbeat_at=heartbeat_at, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


@pytest.mark.slow
def test_live_lost_and_stopped_workers_with_their_steps(
    client: httpx.Client, instance: Instance
) -> None:
    now = time.time()
    instance.record_worker(_worker("mill@box-1:7", now, active=("bh:run-9:2:flour",)))
    instance.record_worker(_worker("mill@box-2:8", now - 120))
    instance.record_worker(_worker("mill@box-3:9", now - 30, stopped_at=now - 30))
    rows = client.get("/api/workers").json()
    assert [(r["worker_id"], r["status"]) for r in rows] == [
        ("mill@box-1:7", "LIVE"),
        ("mill@box-2:8", "LOST"),
        ("mill@box-3:9", "STOPPED"),
    ]
    assert rows[0]["active_steps"] == [{"run_id": "run-9", "step_key": "flour", "attempt": 2}]
    assert rows[0]["queues"] == ["mill"]
    page = client.get("/locations").text
    card = page[page.index('id="workers-card"') :]
    assert 'data-worker="mill@box-1:7" data-status="LIVE"' in card
    assert 'data-active-step="flour"' in card
    assert 'href="/runs/run-9"' in card
    assert 'data-worker="mill@box-2:8" data-status="LOST"' in card
    assert client.get("/locations", params={"part": "workers"}).text.count("<tr") == 3

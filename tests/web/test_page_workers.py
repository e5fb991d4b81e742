"""The Workers card of the Code locations page in headless chromium, over `bh dev`, with a real
`bh worker start` of the project's location on Redis (127.0.0.1:6379): its row shows the host,
the location, its queue and a recent heartbeat while it runs, and STOPPED once it stopped. A
screenshot of the card goes to the session's screenshot folder (tests/web/conftest.py)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest

from tests.support.dev_server import DevServer, bh_env, start_dev_server, stop_dev_server
from tests.support.projects import write_project
from tests.support.waiting import eventually
from tests.web.conftest import Shots, playwright_expect as _expect

pytestmark = pytest.mark.slow

# A database number of its own, so this worker's queue shares nothing with other tests' brokers.
BROKER = "redis://127.0.0.1:6379/12"

DEFINITIONS = f"""\
from pathlib import Path

import bakehouse as dg
from bakehouse_celery import celery_executor


@dg.definitions
def defs():
    loaded = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
    executor = celery_executor.configured({{"broker": "{BROKER}", "backend": "{BROKER}"}})
    return dg.Definitions.merge(loaded, dg.Definitions(executor=executor))
"""


FLOUR = "import bakehouse as dg\n\n@dg.asset\ndef flour() -> int:\n    return 1\n"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("workers-page") / "mill"
    # A location name of its own: the worker's queue is named after it.
    module = f"mill_{uuid.uuid4().hex[:8]}"
    files = {
        "definitions.py": DEFINITIONS,
        "defs/assets.py": FLOUR,
    }
    return write_project(root, module, files)


@pytest.fixture(scope="module")
def server(project: Path) -> Iterator[DevServer]:
    started = start_dev_server(project)
    try:
        started.wait_loaded()
        yield started
    finally:
        stop_dev_server(started)


@pytest.fixture
def worker(project: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`bh worker start` in the project's folder (so it shares the dev server's instance),
    stopped by SIGTERM to its session (the worker and its pool) at the end, whatever happened."""
    log = project / "worker.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bakehouse", "worker", "start", "--concurrency", "1",
             "--heartbeat-interval", "0.5"],
            cwd=project, env={**bh_env(), "PYTHONUNBUFFERED": "1"}, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        eventually(
            lambda: process.poll() is not None or "ready." in log.read_text(errors="replace"),
            message=f"the worker to be ready (log: {log})",
            timeout=120,
        )
        assert process.poll() is None, log.read_text()[-4000:]
        yield process
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    with suppress(ProcessLookupError):  # the pool's processes share the session's group
        os.killpg(process.pid, signal.SIGKILL)


def _worker_rows(server: DevServer) -> list[dict[str, Any]]:
    with server.http() as http:
        rows: list[dict[str, Any]] = http.get("/api/workers").json()
    return rows


def test_a_running_worker_shows_on_the_code_locations_page(
    page: Any, server: DevServer, project: Path, worker: subprocess.Popen[bytes], shots: Shots
) -> None:
    location = server.wait_loaded()[0]["name"]
    eventually(
        lambda: any(r["status"] == "LIVE" for r in _worker_rows(server)),
        message="the worker to heartbeat as LIVE",
        timeout=60,
    )
    (row,) = [r for r in _worker_rows(server) if r["location"] == location]
    assert row["pid"] == worker.pid  # `bh worker start` becomes the worker (exec)

    expect = _expect()
    page.goto("/locations")
    card = page.locator("#workers-card")
    live = card.locator(f'tr[data-worker="{row["worker_id"]}"]')
    expect(live).to_have_attribute("data-status", "LIVE")
    cells = live.locator("td")
    expect(cells.nth(2)).to_have_text(socket.gethostname())  # host
    expect(cells.nth(3)).to_have_text(location)  # location
    expect(cells.nth(4)).to_have_text(location)  # queues: the location's own by default
    expect(cells.nth(6)).to_have_text("just now")  # last heartbeat, within 10 s
    expect(cells.nth(0)).to_contain_text("1 at once")  # --concurrency 1
    card.scroll_into_view_if_needed()
    shot = shots.take(page, "workers-card")
    assert shot.stat().st_size > 0

    _stop(worker)
    eventually(
        lambda: any(r["status"] == "STOPPED" for r in _worker_rows(server)),
        message="the stopped worker to be STOPPED",
        timeout=60,
    )
    page.reload()
    expect(live).to_have_attribute("data-status", "STOPPED")

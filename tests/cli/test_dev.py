"""`bh dev` as a real process: serves the API, runs launches, stops every child on SIGTERM."""

from __future__ import annotations

import json
import signal
import socket
from pathlib import Path

import httpx
import pytest

from tests.cli.helpers import RunBh
from tests.support.api import finished_run, loaded_locations
from tests.support.dev_server import StartDevServer
from tests.support.processes import alive, descendants
from tests.support.projects import write_project

pytestmark = pytest.mark.slow


def test_bh_dev_serves_launches_and_stops_its_children(
    bakery: Path, bh: RunBh, dev_server: StartDevServer
) -> None:
    server = dev_server(bakery)
    proc, url = server.process, server.url
    deployment = json.loads((bakery / ".bakehouse" / "deployment.json").read_text())
    assert deployment == {"url": url, "pid": proc.pid, "started_at": deployment["started_at"]}
    with server.http(timeout=60) as http:
        (location,) = loaded_locations(http)
        run_id = http.post("/api/runs", json={"selection": "*"}).json()["run_id"]
        assert finished_run(http, run_id)["status"] == "SUCCESS"
        code_server = location["pid"]
    # The CLI finds the running deployment and goes through it.
    launched = bh("launch", "--assets", "cookie_dough+", cwd=bakery)
    assert launched.returncode == 0, launched.stdout + launched.stderr
    assert f"queued in the deployment at {url}" in launched.stdout
    assert "✓ chocolate_chip_cookies" in launched.stdout
    listed = bh("locations", "list", "--json", cwd=bakery)
    assert listed.returncode == 0, listed.stderr
    (location,) = json.loads(listed.stdout)
    assert (location["name"], location["status"], location["pid"]) == (
        "bakery",
        "LOADED",
        code_server,
    )
    reloaded = bh("locations", "reload", "bakery", cwd=bakery)
    assert reloaded.returncode == 0, reloaded.stdout + reloaded.stderr
    assert "LOADED" in reloaded.stdout
    children = descendants(proc.pid)
    assert children, "the code server should be a child of bh dev"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    assert not any(alive(c) for c in children)
    assert not (bakery / ".bakehouse" / "deployment.json").exists()


def test_locations_without_a_deployment_load_each_location_once(bakery: Path, bh: RunBh) -> None:
    listed = bh("locations", "list", cwd=bakery)
    assert listed.returncode == 0, listed.stderr
    assert "No deployment running" in listed.stdout
    assert "LOADED" in listed.stdout
    reload = bh("locations", "reload", "bakery", cwd=bakery)
    assert reload.returncode == 1
    assert "no deployment is running for this workspace" in reload.stderr


def test_bh_dev_on_a_busy_port_says_so(bakery: Path, bh: RunBh) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = bh("dev", "--port", str(port), cwd=bakery, timeout=60)
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


DAILY_SALES = {
    "defs/sales.py": """\
        import bakehouse as dg


        @dg.asset(partitions_def=dg.DailyPartitionsDefinition(start_date="2024-01-01"))
        def daily_sales(context: dg.AssetExecutionContext) -> str:
            return context.partition_key
        """
}


def test_bh_launch_partition_goes_through_a_running_deployment(
    tmp_path: Path, bh: RunBh, dev_server: StartDevServer
) -> None:
    shop = write_project(tmp_path / "shop", "dev_shop", DAILY_SALES)
    url = dev_server(shop).url
    launched = bh("launch", "--assets", "daily_sales", "--partition", "2024-01-03", cwd=shop)
    assert launched.returncode == 0, launched.stdout + launched.stderr
    assert f"queued in the deployment at {url}" in launched.stdout
    with httpx.Client(base_url=url, timeout=60) as http:
        (run,) = http.get("/api/runs").json()
        assert (run["partition_key"], run["status"]) == ("2024-01-03", "SUCCESS")
    unknown = bh("launch", "--assets", "daily_sales", "--partition", "1999-01-01", cwd=shop)
    assert unknown.returncode == 2
    assert "unknown partition key '1999-01-01'" in unknown.stderr

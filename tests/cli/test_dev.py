"""`bh dev` as a real process: serves the API, runs launches, stops every child on SIGTERM."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.cli.helpers import RunBh

pytestmark = pytest.mark.slow


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_bh_dev_serves_launches_and_stops_its_children(bakery: Path, bh: RunBh) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAKEHOUSE_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bakehouse", "dev", "--port", "0", "--no-reload"],
        cwd=bakery,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    children: list[int] = []
    try:
        assert proc.stdout is not None
        url = None
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            match = re.search(r"Serving (http://127\.0\.0\.1:\d+)", line)
            url = match.group(1) if match else None
        assert url, "bh dev did not print its URL"
        deployment = json.loads((bakery / ".bakehouse" / "deployment.json").read_text())
        assert deployment == {"url": url, "pid": proc.pid, "started_at": deployment["started_at"]}
        with httpx.Client(base_url=url, timeout=60) as http:
            deadline = time.monotonic() + 60
            while http.get("/api/locations").json()[0]["status"] != "LOADED":
                assert time.monotonic() < deadline
                time.sleep(0.1)
            run_id = http.post("/api/runs", json={"selection": "*"}).json()["run_id"]
            while http.get(f"/api/runs/{run_id}").json()["status"] not in ("SUCCESS", "FAILURE"):
                assert time.monotonic() < deadline
                time.sleep(0.1)
            assert http.get(f"/api/runs/{run_id}").json()["status"] == "SUCCESS"
            code_server = http.get("/api/locations").json()[0]["pid"]

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
        children = _children(proc.pid)
        assert children, "the code server should be a child of bh dev"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert not any(_alive(c) for c in children)
        assert not (bakery / ".bakehouse" / "deployment.json").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        for child in children:
            if _alive(child):
                os.kill(child, signal.SIGKILL)


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


def test_bh_launch_partition_goes_through_a_running_deployment(tmp_path: Path, bh: RunBh) -> None:
    from tests.support.projects import write_project

    shop = write_project(tmp_path / "shop", "dev_shop", DAILY_SALES)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAKEHOUSE_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bakehouse", "dev", "--port", "0", "--no-reload"],
        cwd=shop,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = None
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            match = re.search(r"Serving (http://127\.0\.0\.1:\d+)", proc.stdout.readline())
            url = match.group(1) if match else None
        assert url, "bh dev did not print its URL"
        launched = bh("launch", "--assets", "daily_sales", "--partition", "2024-01-03", cwd=shop)
        assert launched.returncode == 0, launched.stdout + launched.stderr
        assert f"queued in the deployment at {url}" in launched.stdout
        with httpx.Client(base_url=url, timeout=60) as http:
            (run,) = http.get("/api/runs").json()
            assert (run["partition_key"], run["status"]) == ("2024-01-03", "SUCCESS")
        unknown = bh("launch", "--assets", "daily_sales", "--partition", "1999-01-01", cwd=shop)
        assert unknown.returncode == 2
        assert "no partition '1999-01-01'" in unknown.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

"""One workspace, one deployment: `bh` run inside a member project uses the workspace's instance
and its running `bh dev`; projects added to the workspace file are served after a reload.

Real processes throughout: `bh dev` on a workspace of two projects, `bh` commands as
subprocesses, `bh create project` making a real `.venv` (with uv, from the dev extra).
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from tests.cli.helpers import RunBh
from tests.support.api import finished_run, loaded_locations
from tests.support.dev_server import StartDevServer
from tests.support.projects import write_project, write_workspace

pytestmark = pytest.mark.slow

RAW = {
    "defs/raw.py": """\
        import bakehouse as dg


        @dg.asset
        def raw_orders() -> list[int]:
            return [1, 2, 3]
        """
}
REPORT = {
    "defs/report.py": """\
        import bakehouse as dg


        @dg.asset(deps=["raw_orders"])
        def order_report() -> int:
            return 3
        """
}
QUEUED = re.compile(r"Run (\S+) queued in the deployment at (\S+)")


def _lake(tmp_path: Path) -> Path:
    """A workspace of two projects (``ingest``, ``reports``), the second depending on the first."""
    lake = tmp_path / "lake"
    write_project(lake / "projects" / "ingest", "ingest", RAW)
    write_project(lake / "projects" / "reports", "reports", REPORT)
    return write_workspace(lake, ["projects/ingest", "projects/reports"])


def test_bh_inside_a_member_project_goes_through_the_workspace_deployment(
    tmp_path: Path, bh: RunBh, dev_server: StartDevServer
) -> None:
    lake = _lake(tmp_path)
    server = dev_server(lake)
    server.wait_loaded({"ingest", "reports"})
    reports = lake / "projects" / "reports"
    launched = bh("launch", "--assets", "+order_report", cwd=reports / "src" / "reports")
    assert launched.returncode == 0, launched.stdout + launched.stderr
    found = QUEUED.search(launched.stdout)
    assert found is not None, launched.stdout
    run_id, url = found.groups()
    assert url == server.url
    with server.http() as http:
        run = finished_run(http, run_id)
        assert run["status"] == "SUCCESS"
        assert sorted(run["asset_selection"]) == ["order_report", "raw_orders"]
        assert [r["run_id"] for r in http.get("/api/runs").json()] == [run_id]
    # No second instance inside the member: its runs are the workspace's.
    assert not (reports / ".bakehouse").exists()
    listed = bh("runs", "list", cwd=reports)
    assert listed.returncode == 0, listed.stderr
    assert run_id[:8] in listed.stdout  # the list shows short ids


def test_a_project_created_into_the_workspace_is_served_after_reload_all(
    tmp_path: Path, bh: RunBh, dev_server: StartDevServer
) -> None:
    lake = _lake(tmp_path)
    server = dev_server(lake)
    server.wait_loaded({"ingest", "reports"})
    made = bh("create", "project", "billing", cwd=lake, timeout=600)
    assert made.returncode == 0, made.stdout + made.stderr
    assert "with uv" in made.stdout  # the dev extra brings uv, found beside the Python
    billing = lake / "projects" / "billing"
    (billing / "src" / "billing" / "defs" / "invoices.py").write_text(
        textwrap.dedent(
            """\
            import bakehouse as dg


            @dg.asset(deps=["raw_orders"])
            def invoices() -> int:
                return 1
            """
        )
    )
    with server.http(timeout=300) as http:
        assert "billing" not in {s["name"] for s in http.get("/api/locations").json()}
        reloaded = http.post("/api/reload")  # what the page's Reload all button posts
        assert reloaded.status_code == 200, reloaded.text
        states = {s["name"]: s for s in reloaded.json()}
        assert sorted(states) == ["billing", "ingest", "reports"]
        assert states["billing"]["status"] == "LOADED", states["billing"]["error"]
        # It runs in its own .venv's Python, which bh create project made.
        assert (billing / ".venv" / "bin" / "python").exists()
        run_id = http.post("/api/runs", json={"selection": "invoices"}).json()["run_id"]
        assert finished_run(http, run_id)["status"] == "SUCCESS"

    # A project added by hand is loaded by name from inside it, without Reload all.
    write_project(lake / "projects" / "audit", "audit", {})
    config = lake / "pyproject.toml"
    config.write_text(
        config.read_text() + '\n[[tool.bakehouse.workspace.projects]]\npath = "projects/audit"\n'
    )
    one = bh("locations", "reload", "audit", cwd=lake / "projects" / "audit", timeout=300)
    assert one.returncode == 0, one.stdout + one.stderr
    assert "LOADED" in one.stdout

    # And a project taken out of the file goes at the next Reload all.
    write_workspace(lake, ["projects/ingest", "projects/reports", "projects/billing"])
    with server.http(timeout=300) as http:
        assert [s["name"] for s in http.post("/api/reload").json()] == [
            "billing",
            "ingest",
            "reports",
        ]
        assert sorted(s["name"] for s in loaded_locations(http)) == [
            "billing",
            "ingest",
            "reports",
        ]


def test_without_a_deployment_a_member_runs_into_the_workspace_instance(
    tmp_path: Path, bh: RunBh
) -> None:
    lake = _lake(tmp_path)
    reports = lake / "projects" / "reports"
    launched = bh("launch", "--assets", "+order_report", cwd=reports)
    assert launched.returncode == 0, launched.stdout + launched.stderr
    assert (lake / ".bakehouse").is_dir()
    assert not (reports / ".bakehouse").exists()
    listed = bh("runs", "list", "--json", cwd=lake)
    assert listed.returncode == 0, listed.stderr
    assert '"SUCCESS"' in listed.stdout
    # Commands about the project's own code keep to it.
    checked = bh("check", "defs", cwd=reports)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "code location reports" in checked.stdout
    assert "code location ingest" not in checked.stdout

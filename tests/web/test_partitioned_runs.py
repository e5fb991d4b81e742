"""A run that targets one partition says which, in the API and on the runs pages."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from bakehouse.host.deployment import Deployment
from bakehouse.project.workspace import find_workspace
from bakehouse.storage import Instance
from bakehouse.storage.records import RunRecord, RunStatus
from tests.support.projects import write_project
from tests.web.server import serve

pytestmark = pytest.mark.slow

DAILY = {
    "defs/sales.py": """\
        import bakehouse as dg


        @dg.asset(partitions_def=dg.DailyPartitionsDefinition(start_date="2024-01-01"))
        def sales(context: dg.AssetExecutionContext) -> str:
            return context.partition_key
        """
}


def test_the_partition_of_a_run_is_shown(tmp_path: Path) -> None:
    write_project(tmp_path / "shop", "web_shop", DAILY)
    with Instance.for_home(tmp_path / ".bakehouse") as instance:
        deployment = Deployment(find_workspace(tmp_path / "shop"), instance)
        deployment.start()
        try:
            now = time.time()
            instance.create_run(
                RunRecord(
                    run_id="r-partitioned",
                    status=RunStatus.SUCCESS,
                    asset_selection=("sales",),
                    partition_key="2024-01-03",
                    created_at=now,
                    updated_at=now,
                )
            )
            instance.create_run(
                RunRecord(
                    run_id="r-ranged",
                    status=RunStatus.SUCCESS,
                    asset_selection=("sales",),
                    partition_range_start="2024-01-01",
                    partition_range_end="2024-01-07",
                    created_at=now - 1,
                    updated_at=now - 1,
                )
            )
            with serve(deployment) as url, httpx.Client(base_url=url, timeout=60) as http:
                assert http.get("/api/runs/r-partitioned").json()["partition_key"] == "2024-01-03"
                assert http.get("/api/runs").json()[0]["partition_key"] == "2024-01-03"
                ranged = http.get("/api/runs/r-ranged").json()
                assert ranged["partition_range"] == ["2024-01-01", "2024-01-07"]
                assert "data-partition>2024-01-01…2024-01-07<" in http.get("/runs/r-ranged").text
                for page in ("/runs", "/runs/r-partitioned"):
                    html = http.get(page).text
                    assert "data-partition>2024-01-03<" in html, page
        finally:
            deployment.stop()

"""Runs filtered by status, job, asset, tag and launcher: ``GET /api/runs`` (bad values are
4xx, the parameters documented in OpenAPI), ``bh runs list`` and the Runs page, whose filter
controls keep their state in the URL (chromium, on a real ``bh dev``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.support.api import finished_run
from tests.support.dev_server import DevServer, running_dev_server
from tests.support.projects import write_project
from tests.web.conftest import playwright_expect as _expect

pytestmark = pytest.mark.slow

SHOP = {
    "defs/shop.py": """\
        import bakehouse as dg


        @dg.asset
        def flour() -> int:
            return 1


        @dg.asset
        def bread(flour: int) -> int:
            return flour + 1


        @dg.asset
        def sugar() -> int:
            return 2


        bread_job = dg.define_asset_job("bread_job", selection="flour+")
        """
}


@dataclass
class Shop:
    """A ``bh dev`` with three runs: the bread job, sugar tagged team=cakes, and flour."""

    server: DevServer
    http: httpx.Client
    job_run: str
    sugar_run: str
    flour_run: str

    def ids(self, **params: Any) -> list[str]:
        answer = self.http.get("/api/runs", params=params)
        assert answer.status_code == 200, answer.text
        return [r["run_id"] for r in answer.json()]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    root = write_project(tmp_path_factory.mktemp("filters") / "shop", "shop", SHOP)
    with running_dev_server(root) as dev:
        yield dev


@pytest.fixture(scope="module")
def shop(server: DevServer) -> Iterator[Shop]:
    with httpx.Client(base_url=server.url, timeout=120) as http:
        launched = [
            http.post("/api/runs", json=body).json()["run_id"]
            for body in (
                {"job": "bread_job"},
                {"asset_keys": ["sugar"], "tags": {"team": "cakes"}},
                {"asset_keys": ["flour"]},
            )
        ]
        for run_id in launched:
            assert finished_run(http, run_id)["status"] == "SUCCESS"
        yield Shop(server, http, *launched)


def test_the_api_filters_by_job_asset_tag_status_and_launcher(shop: Shop) -> None:
    everything = [shop.flour_run, shop.sugar_run, shop.job_run]
    assert shop.ids() == everything
    assert shop.ids(job="bread_job") == [shop.job_run]
    assert shop.ids(asset="flour") == [shop.flour_run, shop.job_run]
    assert shop.ids(asset="bread") == [shop.job_run]
    assert shop.ids(tag="team=cakes") == [shop.sugar_run]
    assert shop.ids(launched_by="user") == everything  # the UI's API: people launched them
    assert shop.ids(launched_by="schedule") == []
    assert shop.ids(status="SUCCESS", asset="flour", job="bread_job") == [shop.job_run]
    assert shop.ids(status="FAILURE") == []
    assert shop.ids(asset="flour", limit=1) == [shop.flour_run]


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"tag": "team"}, 400, "tag 'team' must look like key=value"),
        ({"launched_by": "robot"}, 400, "unknown launcher 'robot'"),
        ({"launched_by": "sensor:"}, 400, "has ':' but no name"),
        ({"status": "DONE"}, 422, "status"),
    ],
)
def test_bad_filter_values_are_client_errors(
    shop: Shop, params: dict[str, str], status: int, message: str
) -> None:
    answer = shop.http.get("/api/runs", params=params)
    assert answer.status_code == status
    assert message in json.dumps(answer.json())


def test_openapi_documents_each_filter(shop: Shop) -> None:
    spec = shop.http.get("/api/openapi.json").json()
    operation = spec["paths"]["/api/runs"]["get"]
    described = {p["name"]: p.get("description", "") for p in operation["parameters"]}
    for name in ("status", "job", "asset", "tag", "launched_by"):
        assert described[name], f"{name} is not described"
    assert "400" in operation["responses"]


def test_bh_runs_list_filters_the_same(shop: Shop) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAKEHOUSE_")}

    def bh(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bakehouse", "runs", "list", *args],
            cwd=shop.server.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    listed = bh("--asset", "flour", "--launched-by", "user", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [r["run_id"] for r in json.loads(listed.stdout)] == [shop.flour_run, shop.job_run]
    tagged = bh("--tag", "team=cakes", "--status", "success", "--json")
    assert [r["run_id"] for r in json.loads(tagged.stdout)] == [shop.sugar_run]
    refused = bh("--launched-by", "robot", "--json")
    assert refused.returncode == 2
    error = json.loads(refused.stdout)["error"]
    assert "unknown launcher 'robot'" in error["message"]


def test_the_runs_page_filters_with_its_controls_and_keeps_them_in_the_url(
    page: Any, shop: Shop
) -> None:
    expect = _expect()
    page.goto("/runs")
    rows = page.locator("#runs tbody tr[data-run]")
    expect(rows).to_have_count(3)
    page.select_option("#filter-job", "bread_job")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/runs?job=bread_job")
    expect(rows).to_have_count(1)
    expect(page.locator(f"tr[data-run='{shop.job_run}']")).to_be_visible()
    # The URL is the state: opened afresh, the page shows the same filter, chosen.
    page.goto("/runs?asset=flour&status=succeeded")
    expect(page.locator("#filter-asset")).to_have_value("flour")
    expect(page.get_by_role("link", name="Succeeded", exact=True)).to_have_class("on")
    expect(rows).to_have_count(2)
    page.fill("#filter-tag", "team=cakes")
    page.fill("#filter-asset", "")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/runs?status=succeeded&tag=team%3Dcakes")
    expect(rows).to_have_count(1)
    expect(page.locator(f"tr[data-run='{shop.sugar_run}']")).to_be_visible()
    # Status tabs keep the other filters.
    page.get_by_role("link", name="Failed", exact=True).click()
    page.wait_for_url("**/runs?status=failed&tag=team%3Dcakes")
    expect(page.locator("#filter-tag")).to_have_value("team=cakes")
    # A bad value says why, and lists nothing.
    response = page.goto("/runs?launched_by=robot")
    assert response.status == 400
    expect(page.locator("#filter-error")).to_contain_text("unknown launcher 'robot'")
    expect(rows).to_have_count(0)

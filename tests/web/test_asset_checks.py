"""Asset checks on the asset page and in ``/api/assets/{key}``: each check of the asset (from
any location) with its latest result, over `bh dev` as a real process, in headless chromium.

Workspace: ``ui_pantry`` (flour, its checks, and a failing check of ``butter``) and
``ui_audit`` (a check of flour defined in another location, never run by flour's runs).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.api import finished_run
from tests.support.dev_server import DevServer, running_dev_server
from tests.support.projects import write_project, write_workspace
from tests.web.conftest import Shots

pytestmark = pytest.mark.slow

PANTRY = {
    "defs/pantry.py": """\
        import bakehouse as dg


        @dg.asset
        def flour() -> int:
            return 500


        @dg.asset
        def butter() -> int:
            return 0


        @dg.asset_check(asset=flour, blocking=True, description="At least a kilo in stock.")
        def enough(flour: int) -> dg.AssetCheckResult:
            return dg.AssetCheckResult(
                passed=flour >= 1000,
                metadata={"grams": flour},
                description="order more flour",
            )


        @dg.asset_check(asset=flour)
        def weighed(flour: int) -> dg.AssetCheckResult:
            return dg.AssetCheckResult(passed=flour > 0)


        @dg.asset_check(asset=butter)
        def scale_works() -> dg.AssetCheckResult:
            raise RuntimeError("the scale is broken")
        """
}
AUDIT = {
    "defs/audit.py": """\
        import bakehouse as dg


        @dg.asset_check(asset="flour")
        def audited() -> dg.AssetCheckResult:
            return dg.AssetCheckResult(passed=True)
        """
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    root = tmp_path_factory.mktemp("checks")
    write_project(root / "pantry", "ui_pantry", PANTRY)
    write_project(root / "audit", "ui_audit", AUDIT)
    write_workspace(root, ["pantry", "audit"])
    with running_dev_server(root, loaded={"ui_pantry", "ui_audit"}) as dev:
        yield dev


def _materialize(server: DevServer, keys: list[str]) -> dict[str, Any]:
    with server.http() as http:
        launched = http.post("/api/runs", json={"asset_keys": keys})
        assert launched.status_code == 201, launched.text
        return finished_run(http, launched.json()["run_id"])


def _checks(server: DevServer, key: str) -> dict[str, dict[str, Any]]:
    response = httpx.get(f"{server.url}/api/assets/{key}", timeout=30)
    assert response.status_code == 200, response.text
    return {c["name"]: c for c in response.json()["checks"]}


def test_the_api_gives_each_check_and_its_latest_result(server: DevServer) -> None:
    before = _checks(server, "flour")
    assert {n: (c["status"], c["location"]) for n, c in before.items()} == {
        "enough": ("never", "ui_pantry"),
        "weighed": ("never", "ui_pantry"),
        "audited": ("never", "ui_audit"),
    }
    assert before["enough"]["blocking"] is True
    assert before["enough"]["source_file"].endswith("pantry.py")

    run = _materialize(server, ["flour", "butter"])
    assert run["status"] == "FAILURE"  # the blocking check failed, and another one raised
    after = _checks(server, "flour")
    assert after["enough"]["status"] == "failed"
    assert after["enough"]["severity"] == "ERROR"
    assert after["enough"]["metadata"] == {"grams": {"type": "int", "value": 500}}
    assert after["enough"]["result_description"] == "order more flour"
    assert after["enough"]["run_id"] == run["run_id"]
    assert after["weighed"]["status"] == "passed"
    # A check in another location is not part of flour's runs.
    assert after["audited"]["status"] == "never"
    butter = _checks(server, "butter")
    assert butter["scale_works"]["status"] == "errored"
    assert "the scale is broken" in butter["scale_works"]["error"]
    assert httpx.get(f"{server.url}/api/assets/sugar", timeout=30).status_code == 404


def test_the_asset_page_lists_checks_with_their_latest_result(
    browser: Any, server: DevServer, shots: Shots
) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    _materialize(server, ["flour", "butter"])
    context = browser.new_context(base_url=server.url, viewport={"width": 1440, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto("/assets/flour")
        checks = page.locator("#asset-checks")
        expect(checks.locator("tbody tr")).to_have_count(3)
        enough = checks.locator("tr[data-check=enough]")
        expect(enough.locator(".pill")).to_have_text("Failed")
        expect(enough.locator(".tag").first).to_have_text("blocking")
        expect(enough).to_contain_text("At least a kilo in stock.")
        expect(enough).to_contain_text("order more flour")
        expect(enough).to_contain_text("grams")
        expect(checks.locator("tr[data-check=weighed] .pill")).to_have_text("Passed")
        audited = checks.locator("tr[data-check=audited]")
        expect(audited.locator(".pill")).to_have_text("Never run")
        expect(audited.locator(".tag-accent")).to_have_text("ui_audit")
        shots.take(page, "asset-checks")

        page.goto("/assets/butter")
        broken = page.locator("#asset-checks tr[data-check=scale_works]")
        expect(broken.locator(".pill")).to_have_text("Execution failed")
        expect(broken).to_contain_text("the scale is broken")
    finally:
        context.close()
    assert not errors, f"scripts failed on the page: {errors}"

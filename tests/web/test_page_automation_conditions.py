"""Declarative automation through a running `bh dev`: the daemon evaluates an eager asset's
condition, launches it after its upstream updates, and the API, the evaluation view (headless
chromium) and `bh automation` explain which sub-conditions were true."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.dev_server import DevServer, running_dev_server
from tests.support.projects import write_project
from tests.support.waiting import eventually
from tests.web.conftest import Shots, playwright_expect

pytestmark = pytest.mark.slow

FILES = {
    "defs/assets.py": """\
        import bakehouse as dg


        @dg.asset(group_name="dough")
        def flour() -> int:
            return 500


        @dg.asset(group_name="dough", automation_condition=dg.AutomationCondition.eager())
        def dough(flour: int) -> int:
            return flour + 300


        @dg.asset(deps=[dough], automation_condition=dg.AutomationCondition.on_cron("@daily"))
        def daily_report() -> None:
            pass


        # Ticks every second, so the test need not wait 30 s for the default sensor.
        bakery_automation = dg.AutomationConditionSensorDefinition(
            "bakery_automation",
            target=dg.AssetSelection.all(),
            default_status=dg.DefaultSensorStatus.RUNNING,
            minimum_interval_seconds=1,
            run_tags={"team": "bakers"},
        )
        """
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    root = write_project(tmp_path_factory.mktemp("automation") / "bakery", "auto_cond", FILES)
    with running_dev_server(root, loaded=set()) as dev:
        yield dev


@pytest.fixture(scope="module")
def requested(server: DevServer) -> dict[str, Any]:
    """The evaluation that requested `dough`, after `flour` was materialized, its run done."""
    with server.http() as http:
        eventually(
            lambda: http.get("/api/automation/conditions/dough/evaluations").json(),
            message="the daemon to evaluate dough's condition once",
        )
        run_id = http.post("/api/runs", json={"asset_keys": ["flour"]}).json()["run_id"]
        assert server.wait_finished(run_id)["status"] == "SUCCESS"

        def requesting() -> dict[str, Any] | None:
            found = http.get("/api/automation/conditions/dough/evaluations?limit=50").json()
            return next((e for e in found if e["run_ids"]), None)

        evaluation = eventually(requesting, message="an evaluation of dough to request a run")
        assert server.wait_finished(evaluation["run_ids"][0])["status"] == "SUCCESS"
        return evaluation


def _true(node: dict[str, Any]) -> set[str]:
    found = set()
    if node["true_partitions"]:
        name = node["label"] or node["name"]
        found.add(f"{name}@{node['dep']}" if node["dep"] else name)
    for child in node["children"]:
        found |= _true(child)
    return found


def test_the_api_explains_the_evaluation_that_launched_the_run(
    server: DevServer, requested: dict[str, Any]
) -> None:
    assert requested["requested"] == [""]
    assert {"eager", "any_deps_updated", "newly_updated@flour"} <= _true(requested["tree"])
    with server.http() as http:
        run = http.get(f"/api/runs/{requested['run_ids'][0]}").json()
        assert run["asset_selection"] == ["dough"]
        assert run["tags"]["bakehouse/sensor"] == "bakery_automation"
        assert run["tags"]["team"] == "bakers"
        listed = {a["asset_key"]: a for a in http.get("/api/automation/conditions").json()}
        assert set(listed) == {"dough", "daily_report"}
        assert listed["dough"]["condition"] == "eager"
        assert listed["daily_report"]["condition"] == "on_cron(@daily, UTC)"
        assert listed["dough"]["sensor"] == "bakery_automation"
        assert listed["dough"]["sensor_status"] == "RUNNING"
        assert listed["dough"]["latest_requested"]["storage_id"] == requested["storage_id"]
        one = http.get(f"/api/automation/evaluations/{requested['storage_id']}")
        assert one.json() == requested
        assert http.get("/api/automation/evaluations/999999999").status_code == 404
        missing = http.get("/api/automation/conditions/flour/evaluations")
        assert missing.status_code == 404
        assert "has no automation condition" in missing.json()["detail"]
        # Exactly one run: later ticks saw it requested, then updated.
        runs = http.get("/api/runs?limit=50").json()
        assert [r["asset_selection"] for r in runs if r["tags"].get("team")] == [["dough"]]


def test_the_evaluation_view_shows_the_true_sub_conditions(
    page: Any, server: DevServer, requested: dict[str, Any], shots: Shots
) -> None:
    expect = playwright_expect()
    page.goto(f"/automation/conditions/dough?evaluation={requested['storage_id']}")
    view = page.locator("#evaluation")
    expect(view).to_contain_text("Requested")
    root = view.locator("li.cond-node").first
    expect(root).to_have_attribute("data-node", "eager")
    expect(root).to_have_attribute("data-true", "true")
    for name in ("any_deps_updated", "in_latest_time_window"):
        expect(view.locator(f"li[data-node='{name}']").first).to_have_attribute("data-true", "true")
    updated = view.locator("li[data-node='newly_updated'][data-dep='flour']").first
    expect(updated).to_have_attribute("data-true", "true")
    expect(view.locator("li[data-node='handled']").first).to_have_attribute("data-true", "false")
    expect(page.locator(f"tr[data-evaluation='{requested['storage_id']}']")).to_have_class(
        "selected"
    )
    shots.take(page, "automation-evaluation")

    # Unpinned, the view follows the daemon: a newer evaluation appears on its own.
    page.goto("/automation/conditions/dough")
    newest = page.locator("#evaluations tbody tr").first
    shown = newest.get_attribute("data-evaluation")
    expect(newest).not_to_have_attribute("data-evaluation", shown or "")

    # The asset page links to it; the Automation page lists both automated assets.
    page.goto("/assets/dough")
    card = page.locator("#asset-automation")
    expect(card).to_contain_text("eager")
    expect(card).to_contain_text("bakery_automation")
    page.goto("/automation")
    expect(page.locator("tr[data-automated='daily_report']")).to_contain_text(
        "on_cron(@daily, UTC)"
    )
    expect(page.locator("tr[data-instigator='auto_cond:bakery_automation']")).to_contain_text(
        "automation condition"
    )


def test_bh_automation_prints_the_tree_with_the_true_nodes_marked(
    server: DevServer, requested: dict[str, Any]
) -> None:
    def bh(*args: str, code: int = 0) -> str:
        done = subprocess.run([sys.executable, "-m", "bakehouse", *args], cwd=server.root,
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == code, done.stdout + done.stderr
        return done.stdout + done.stderr

    listed = bh("automation", "list")
    assert "dough" in listed
    assert "eager" in listed
    shown = bh("automation", "show", "dough", "--evaluation", str(requested["storage_id"]))
    assert f"Evaluation {requested['storage_id']} of dough" in shown
    assert "✓ eager (AND)" in shown
    assert "✓ any_deps_updated (ANY_DEPS_MATCH)" in shown
    assert "✓ newly_updated [dep flour]" in shown
    assert "✗ handled (OR)" in shown
    # The sensor is listed, and switched, with the others; it has no preview (no user code).
    sensors = bh("sensor", "list", "--json")
    assert '"automation_condition"' in sensors
    assert "bakery_automation" in sensors
    refused = bh("sensor", "preview", "bakery_automation", code=1)
    assert "evaluates automation conditions in the daemon" in refused

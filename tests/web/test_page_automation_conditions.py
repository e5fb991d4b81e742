"""Declarative automation through a running `bh dev`: the daemon evaluates an eager asset's
condition, sees its upstream update, waits while the run that updated it is still going,
launches it once that run is done, and the API, the evaluation view (headless chromium) and
`bh automation` explain which sub-conditions were true at each of those evaluations."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.dev_server import DevServer, running_dev_server
from tests.support.projects import write_project
from tests.support.waiting import eventually
from tests.web.conftest import Shots, playwright_expect

pytestmark = pytest.mark.slow

FILES = {
    "defs/assets.py": """\
        import time
        from pathlib import Path

        import bakehouse as dg

        # sifting, in flour's run after flour, sifts until the test opens the sieve (a file beside
        # the project's pyproject.toml): the run stays in progress for as long as the test needs.
        SIEVE = Path(__file__).resolve().parents[3] / "sieve-open"


        @dg.asset(group_name="dough")
        def flour() -> int:
            return 500


        @dg.asset(group_name="dough")
        def sifting(flour: int) -> None:
            deadline = time.monotonic() + 120
            while not SIEVE.exists():
                if time.monotonic() > deadline:
                    raise RuntimeError("nobody opened the sieve")
                time.sleep(0.02)


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


def _dough_evaluations(http: httpx.Client) -> list[dict[str, Any]]:
    """Dough's evaluations, newest first."""
    found: list[dict[str, Any]] = http.get(
        "/api/automation/conditions/dough/evaluations?limit=50"
    ).json()
    return found


@pytest.fixture(scope="module")
def waiting(server: DevServer) -> dict[str, Any]:
    """The evaluation that first saw `flour`'s materialization: flour's run was still going
    (`sifting` holds it open until the sieve opens), so it did not request dough. Returned once
    that run is done.

    Which tick first sees the materialization decides the story: it is stored a moment before
    its run ends, so without the sieve a tick may land in between, or after the run ended.
    Held open, every run of this test takes the same path."""
    with server.http() as http:
        eventually(
            lambda: _dough_evaluations(http),
            message="the daemon to evaluate dough's condition once",
        )
        run_id = http.post("/api/runs", json={"asset_keys": ["flour", "sifting"]}).json()["run_id"]

        def seeing() -> dict[str, Any] | None:
            found = _dough_evaluations(http)
            return next((e for e in found if "newly_updated@flour" in _true(e["tree"])), None)

        evaluation = eventually(seeing, message="an evaluation of dough to see flour updated")
        (server.root / "sieve-open").touch()
        assert server.wait_finished(run_id)["status"] == "SUCCESS"
        return evaluation


@pytest.fixture(scope="module")
def requested(server: DevServer, waiting: dict[str, Any]) -> dict[str, Any]:
    """The evaluation that requested `dough`: the first after flour's run was done, its run
    finished."""
    with server.http() as http:

        def requesting() -> dict[str, Any] | None:
            return next((e for e in _dough_evaluations(http) if e["run_ids"]), None)

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
    server: DevServer, waiting: dict[str, Any], requested: dict[str, Any]
) -> None:
    # Flour updated while its run was going: noted (SINCE), not requested.
    assert waiting["requested"] == []
    assert waiting["run_ids"] == []
    seen = _true(waiting["tree"])
    assert {"any_deps_updated", "newly_updated@flour", "any_deps_in_progress", "SINCE"} <= seen
    assert "eager" not in seen
    # The run done, the next evaluation requests dough for the update it noted.
    assert requested["storage_id"] > waiting["storage_id"]
    assert requested["requested"] == [""]
    launched = _true(requested["tree"])
    assert {"eager", "SINCE", "in_latest_time_window"} <= launched
    assert not {"any_deps_updated", "any_deps_in_progress", "handled"} & launched
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
    page: Any, server: DevServer, waiting: dict[str, Any], requested: dict[str, Any], shots: Shots
) -> None:
    expect = playwright_expect()

    def node(name: str, dep: str | None = None) -> Any:
        at = f"[data-dep='{dep}']" if dep else ""
        return page.locator(f"#evaluation li[data-node='{name}']{at}").first

    page.goto(f"/automation/conditions/dough?evaluation={waiting['storage_id']}")
    expect(node("eager")).to_have_attribute("data-true", "false")
    for name in ("any_deps_updated", "any_deps_in_progress", "SINCE"):
        expect(node(name)).to_have_attribute("data-true", "true")
    expect(node("newly_updated", "flour")).to_have_attribute("data-true", "true")

    page.goto(f"/automation/conditions/dough?evaluation={requested['storage_id']}")
    view = page.locator("#evaluation")
    expect(view).to_contain_text("Requested")
    root = view.locator("li.cond-node").first
    expect(root).to_have_attribute("data-node", "eager")
    expect(root).to_have_attribute("data-true", "true")
    for name in ("SINCE", "in_latest_time_window"):
        expect(node(name)).to_have_attribute("data-true", "true")
    for name in ("any_deps_updated", "any_deps_in_progress", "handled"):
        expect(node(name)).to_have_attribute("data-true", "false")
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
    server: DevServer, waiting: dict[str, Any], requested: dict[str, Any]
) -> None:
    def bh(*args: str, code: int = 0) -> str:
        done = subprocess.run([sys.executable, "-m", "bakehouse", *args], cwd=server.root,
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == code, done.stdout + done.stderr
        return done.stdout + done.stderr

    listed = bh("automation", "list")
    assert "dough" in listed
    assert "eager" in listed
    # The evaluation that saw flour updated while its run went on, then the one that launched.
    marked = {
        waiting["storage_id"]: [
            "✗ eager (AND)",
            "✓ any_deps_updated (ANY_DEPS_MATCH)",
            "✓ newly_updated [dep flour]",
            "✓ any_deps_in_progress (ANY_DEPS_MATCH)",
        ],
        requested["storage_id"]: [
            "✓ eager (AND)",
            "✓ SINCE",
            "✗ any_deps_updated (ANY_DEPS_MATCH)",
            "✗ handled (OR)",
        ],
    }
    for storage_id, lines in marked.items():
        shown = bh("automation", "show", "dough", "--evaluation", str(storage_id))
        assert f"Evaluation {storage_id} of dough" in shown
        for line in lines:
            assert line in shown, shown
    # The sensor is listed, and switched, with the others; it has no preview (no user code).
    sensors = bh("sensor", "list", "--json")
    assert '"automation_condition"' in sensors
    assert "bakery_automation" in sensors
    refused = bh("sensor", "preview", "bakery_automation", code=1)
    assert "evaluates automation conditions in the daemon" in refused

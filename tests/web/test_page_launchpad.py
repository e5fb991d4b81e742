"""The launchpad, the Jobs page and a job's page in headless chromium, over `bh dev` as a real
process: a Config asset launched with a value typed into the editor, a job launched from the
Jobs page, a partition picked for Materialize all on a graph of partitioned and unpartitioned
assets; and the API behind them (``/api/launchpad``, ``/api/jobs``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.dev_server import DevServer, running_dev_server
from tests.support.projects import write_project
from tests.web.conftest import Shots, other_host_requests, playwright_expect as _expect

pytestmark = pytest.mark.slow

KITCHEN = {
    "defs/greeting.py": """\
        import bakehouse as dg


        class GreetingConfig(dg.Config):
            name: str
            times: int = 1


        @dg.asset(group_name="words", description="Says hello to whom the config names.")
        def greeting(config: GreetingConfig) -> dg.MaterializeResult:
            return dg.MaterializeResult(metadata={"text": ("hello " + config.name) * config.times})
        """,
    "defs/bakes.py": """\
        import bakehouse as dg

        days = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-05")


        @dg.asset(partitions_def=days, group_name="bakes")
        def daily_bake(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
            return dg.MaterializeResult(metadata={"day": context.partition_key})


        @dg.asset(group_name="bakes")
        def loaf() -> int:
            return 1


        @dg.asset(group_name="bakes", deps=[loaf])
        def crumbs() -> dg.MaterializeResult:
            return dg.MaterializeResult(metadata={"crumbs": 3})
        """,
    "defs/jobs.py": """\
        import bakehouse as dg

        bread_job = dg.define_asset_job(
            "bread_job", selection="loaf+", description="Bread and what falls off it."
        )
        greet_job = dg.define_asset_job(
            "greet_job",
            selection=["greeting"],
            config={"ops": {"greeting": {"config": {"name": "job"}}}},
            tags={"team": "front"},
        )
        morning = dg.ScheduleDefinition(name="morning", job=bread_job, cron_schedule="0 6 * * *")


        @dg.sensor(job=bread_job)
        def flour_delivered(context):
            return None


        class KneadConfig(dg.Config):
            minutes: int


        @dg.op
        def knead(context: dg.OpExecutionContext, config: KneadConfig) -> None:
            context.log.info(f"kneaded for {config.minutes} minutes")


        @dg.job
        def knead_job() -> None:
            knead()
        """,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    root = write_project(tmp_path_factory.mktemp("lp") / "kitchen", "lp_kitchen", KITCHEN)
    with running_dev_server(root) as dev:
        yield dev


def _materialization(http: httpx.Client, run_id: str, key: str) -> dict[str, Any]:
    events = http.get(f"/api/runs/{run_id}").json()["events"]
    found = [
        e for e in events if e["event_type"] == "ASSET_MATERIALIZATION" and e["asset_key"] == key
    ]
    assert len(found) == 1, events
    materialization: dict[str, Any] = found[0]
    return materialization


def _succeeded(page: Any, server: DevServer) -> tuple[str, dict[str, Any]]:
    """The run whose page `page` went to, once it finished with SUCCESS: its id and API view."""
    _expect()(page).to_have_url(re.compile(r"/runs/[0-9a-f-]{36}$"))
    run_id: str = page.url.rsplit("/", 1)[1]
    run = server.wait_finished(run_id)
    assert run["status"] == "SUCCESS", run
    return run_id, run


# ---- the API --------------------------------------------------------------------------------


def test_the_launchpad_api_says_what_a_launch_needs(server: DevServer) -> None:
    with server.http() as http:
        needs = http.get("/api/launchpad", params={"asset_key": "greeting"}).json()
        assert needs["needed"] is True
        assert needs["config_needed"] is True
        assert needs["partitions"] is None
        assert needs["config_yaml"].startswith("ops:\n  greeting:\n    config:\n      name:")
        assert needs["config_schemas"]["greeting"]["required"] == ["name"]

        plain = http.get("/api/launchpad", params={"asset_key": "loaf"}).json()
        assert plain["needed"] is False
        assert plain["config_yaml"] == ""

        # A job whose default config fits needs nothing; its tags come with it.
        job = http.get("/api/launchpad", params={"job": "greet_job", "location": "lp_kitchen"})
        assert job.json()["needed"] is False
        assert job.json()["tags"] == {"team": "front"}

        mixed = http.get("/api/launchpad", params={"selection": "group:bakes"}).json()
        assert mixed["needed"] is True
        assert mixed["config_needed"] is False
        parts = mixed["partitions"]
        assert parts["keys"] == ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]
        assert parts["latest"] == "2024-01-04"
        assert parts["partitioned_assets"] == ["daily_bake"]
        assert parts["unpartitioned_assets"] == ["loaf", "crumbs"]

        # A job of ops: scaffolded from its op's Config, refused without it.
        ops = http.get("/api/launchpad", params={"job": "knead_job"}).json()
        assert ops["config_needed"] is True
        assert ops["config_yaml"].startswith("ops:\n  knead:\n    config:\n      minutes:")
        refused = http.post("/api/runs", json={"job": "knead_job"})
        assert refused.status_code == 400
        assert "op 'knead' needs config: missing required field 'minutes'" in refused.text

        assert http.get("/api/launchpad").status_code == 400
        unknown = http.get("/api/launchpad", params={"job": "nope"})
        assert unknown.status_code == 400
        assert "no job named 'nope'" in unknown.json()["detail"]


def test_config_is_checked_without_launching_with_the_line_of_each_problem(
    server: DevServer,
) -> None:
    with server.http() as http:
        runs_before = len(http.get("/api/runs").json())

        def check(text: str) -> dict[str, Any]:
            got = http.post(
                "/api/launchpad/check", json={"asset_keys": ["greeting"], "config_yaml": text}
            )
            assert got.status_code == 200, got.text
            body: dict[str, Any] = got.json()
            return body

        wrong = check("ops:\n  greeting:\n    config:\n      name: ann\n      times: many\n")
        assert wrong["valid"] is False
        assert wrong["problems"] == [
            {
                "message": "invalid config for asset 'greeting': field 'times': expected "
                "integer, got str 'many'",
                "line": 5,
            }
        ]
        missing = check("ops:\n  greeting:\n    config:\n      times: 2\n")
        assert missing["problems"][0]["line"] == 3
        assert "missing required field 'name'" in missing["problems"][0]["message"]
        broken = check("ops:\n  greeting: [\n")
        assert broken["problems"][0]["line"] == 3
        assert broken["problems"][0]["message"].startswith("not valid YAML")
        fine = check("ops:\n  greeting:\n    config:\n      name: ann\n")
        assert fine == {
            "valid": True,
            "problems": [],
            "run_config": {"ops": {"greeting": {"config": {"name": "ann"}}}},
        }
        assert len(http.get("/api/runs").json()) == runs_before  # nothing was launched

        # Without config the launch is refused up front, not a run that fails in its step.
        refused = http.post("/api/runs", json={"asset_keys": ["greeting"]})
        assert refused.status_code == 400
        assert "asset 'greeting' needs config: missing required field 'name'" in refused.text


def test_the_jobs_api_lists_jobs_with_what_targets_them(server: DevServer) -> None:
    with server.http() as http:
        jobs = {j["name"]: j for j in http.get("/api/jobs").json()}
        assert set(jobs) == {"bread_job", "greet_job", "knead_job"}
        assert jobs["knead_job"]["is_asset_job"] is False
        bread = jobs["bread_job"]
        assert bread["location"] == "lp_kitchen"
        assert bread["selection"] == "loaf+"
        assert bread["asset_keys"] == ["loaf", "crumbs"]
        assert bread["schedules"] == ["morning"]
        assert bread["sensors"] == ["flour_delivered"]
        assert jobs["greet_job"]["schedules"] == []
        assert jobs["greet_job"]["sensors"] == []

        one = http.get("/api/jobs/lp_kitchen/greet_job")
        assert one.status_code == 200
        assert one.json()["run_config"] == {"ops": {"greeting": {"config": {"name": "job"}}}}
        assert one.json()["tags"] == {"team": "front"}
        missing = http.get("/api/jobs/lp_kitchen/nope")
        assert missing.status_code == 404
        assert "no job 'nope' in code location 'lp_kitchen'" in missing.json()["detail"]
        assert http.get("/api/jobs/elsewhere/bread_job").status_code == 404

        schema = http.get("/api/openapi.json").json()
        assert "404" in schema["paths"]["/api/jobs/{location}/{name}"]["get"]["responses"]
        assert "400" in schema["paths"]["/api/launchpad/check"]["post"]["responses"]


# ---- the pages ------------------------------------------------------------------------------


def test_a_config_asset_launches_with_the_value_typed_into_the_launchpad(
    page: Any, server: DevServer, shots: Shots
) -> None:
    expect = _expect()
    page.goto("/assets/greeting")
    page.get_by_role("button", name="Materialize", exact=True).click()
    dialog = page.locator("dialog#dialog")
    expect(dialog).to_be_visible()
    editor = dialog.get_by_label("Run config (YAML)")
    expect(editor).to_have_value(re.compile(r"^ops:\n  greeting:\n    config:\n      name:"))
    status = dialog.locator("[data-lp-config-status]")
    # The scaffold leaves the required field empty: the check names its line.
    expect(status).to_have_text("1 problem")
    expect(dialog.locator("[data-lp-problems] li")).to_contain_text("Line 4")
    expect(dialog.locator(".lp-gutter [data-line='4']")).to_have_attribute("data-problem", "")

    text = editor.input_value().replace("      name:", "      name: Ada", 1)
    editor.fill(text.replace("times: 1", "times: lots"))
    expect(status).to_have_text("1 problem")
    expect(dialog.locator("[data-lp-problems] li")).to_contain_text(
        "Line 5 invalid config for asset 'greeting': field 'times': expected integer"
    )
    editor.fill(text.replace("times: 1", "times: 2"))
    expect(status).to_have_text("Config is valid")
    dialog.get_by_role("button", name="Add tag").click()
    dialog.get_by_label("Tag key").fill("reason")
    dialog.get_by_label("Tag value").fill("launchpad test")
    shots.take(page, "launchpad")
    dialog.get_by_role("button", name="Launch run").click()

    run_id, run = _succeeded(page, server)
    assert run["tags"]["reason"] == "launchpad test"
    with server.http() as http:
        stored = _materialization(http, run_id, "greeting")
    assert stored["data"]["metadata"]["text"]["value"] == "hello Adahello Ada"


def test_an_asset_that_needs_nothing_launches_at_once(page: Any, server: DevServer) -> None:
    page.goto("/assets/loaf")
    page.get_by_role("button", name="Materialize", exact=True).click()
    _succeeded(page, server)


def test_a_job_launches_from_the_jobs_page(page: Any, server: DevServer, shots: Shots) -> None:
    expect = _expect()
    page.goto("/jobs")
    expect(page.locator("nav a.active")).to_have_text("Jobs")
    row = page.locator("tr[data-job='bread_job']")
    expect(row).to_contain_text("lp_kitchen")
    expect(row).to_contain_text("loaf+")
    expect(row.locator("[data-targeting]")).to_contain_text("morning")
    expect(row.locator("[data-targeting]")).to_contain_text("flour_delivered")
    expect(page.locator("tr[data-job='greet_job'] [data-last-run]")).to_have_text("Never run")

    # The job needs nothing: Launch runs it at once with the job's selection.
    row.get_by_role("button", name="Launch").click()
    run_id, run = _succeeded(page, server)
    assert run["job_name"] == "bread_job"
    assert run["asset_selection"] == ["loaf", "crumbs"]

    page.goto("/jobs")
    last = page.locator("tr[data-job='bread_job'] [data-last-run]")
    expect(last).to_contain_text("Succeeded")
    expect(last.locator("a")).to_have_text(run_id[:8])
    shots.take(page, "jobs")


def test_the_job_page_draws_its_graph_lists_its_runs_and_launches_with_config(
    page: Any, server: DevServer, shots: Shots
) -> None:
    expect = _expect()
    page.goto("/jobs")
    page.get_by_role("link", name="greet_job").click()
    expect(page).to_have_url(re.compile(r"/jobs/lp_kitchen/greet_job$"))
    expect(page.locator("h1")).to_have_text("greet_job")
    page.wait_for_selector("body[data-lineage=ready]", state="attached")
    assert page.evaluate("bhLineage.count") == 1
    expect(page.locator("#job-runs")).to_contain_text("No runs yet")

    # The launchpad starts from the job's default config and tags.
    page.get_by_role("button", name="Launchpad…").click()
    dialog = page.locator("dialog#dialog")
    editor = dialog.get_by_label("Run config (YAML)")
    expect(editor).to_have_value(re.compile(r"name: job"))
    expect(dialog.get_by_label("Tag key")).to_have_value("team")
    expect(dialog.locator("[data-lp-config-status]")).to_have_text("Config is valid")
    editor.fill(editor.input_value().replace("name: job", "name: Grace"))
    expect(dialog.locator("[data-lp-config-status]")).to_have_text("Config is valid")
    dialog.get_by_role("button", name="Launch run").click()
    run_id, run = _succeeded(page, server)
    assert run["job_name"] == "greet_job"
    assert run["tags"]["team"] == "front"
    with server.http() as http:
        stored = _materialization(http, run_id, "greeting")
    assert stored["data"]["metadata"]["text"]["value"] == "hello Grace"

    page.goto("/jobs/lp_kitchen/greet_job")
    expect(page.locator(f"#job-runs tr[data-run='{run_id}']")).to_have_attribute(
        "data-status", "SUCCESS"
    )
    page.wait_for_selector("body[data-lineage=ready]", state="attached")
    expect(page.locator("[data-all-runs]")).to_have_attribute("href", "/runs?job=greet_job")
    shots.take(page, "job")
    assert page.goto("/jobs/lp_kitchen/nope").status == 404


def test_materialize_all_on_a_mixed_graph_runs_the_partition_picked(
    page: Any, server: DevServer, shots: Shots
) -> None:
    expect = _expect()
    page.goto("/lineage?selection=group:bakes")
    page.wait_for_selector("body[data-lineage=ready]", state="attached")
    page.get_by_role("button", name="Materialize all shown").click()
    dialog = page.locator("dialog#dialog")
    expect(dialog.locator("[data-lp-partitions]")).to_contain_text("4 partitions")
    expect(dialog.locator("[data-lp-unpartitioned]")).to_contain_text("loaf, crumbs")
    expect(dialog.get_by_label("Latest")).to_be_checked()
    dialog.get_by_label("Partition key").fill("2024-02-30")
    dialog.get_by_role("button", name="Launch run").click()
    expect(dialog.locator("[data-lp-partition-error]")).to_contain_text('No partition "2024-02-30"')
    dialog.get_by_label("Partition key").fill("2024-01-02")
    shots.take(page, "launchpad-partitions")
    dialog.get_by_role("button", name="Launch run").click()

    run_id, run = _succeeded(page, server)
    assert run["partition_key"] == "2024-01-02"
    assert sorted(run["asset_selection"]) == ["crumbs", "daily_bake", "loaf"]
    with server.http() as http:
        bake = _materialization(http, run_id, "daily_bake")
        assert bake["partition_key"] == "2024-01-02"
        assert bake["data"]["metadata"]["day"]["value"] == "2024-01-02"
        # The unpartitioned ones materialize once, unpartitioned, as Dagster runs them.
        assert _materialization(http, run_id, "loaf")["partition_key"] is None
        assert _materialization(http, run_id, "crumbs")["partition_key"] is None


def test_a_range_picked_in_the_launchpad_launches_a_backfill(page: Any) -> None:
    expect = _expect()
    page.goto("/assets/daily_bake")
    page.get_by_role("button", name="Materialize…").click()
    dialog = page.locator("dialog#dialog")
    dialog.get_by_label("First partition").select_option("2024-01-03")
    expect(dialog.get_by_role("button", name="Launch backfill")).to_be_visible()
    dialog.get_by_role("button", name="Launch backfill").click()
    expect(page).to_have_url(re.compile(r"/backfills/[a-z]{8}$"))
    expect(page.locator("[data-backfill-status]")).to_have_attribute(
        "data-backfill-status", "COMPLETED", timeout=120_000
    )
    rows = page.locator("#backfill-partitions tbody tr")
    assert rows.evaluate_all("rs => rs.map(r => r.dataset.partition)") == [
        "2024-01-03",
        "2024-01-04",
    ]


def test_a_job_of_ops_launches_with_its_op_config_typed_in(page: Any, server: DevServer) -> None:
    expect = _expect()
    page.goto("/jobs")
    page.locator("tr[data-job='knead_job']").get_by_role("button", name="Launch").click()
    dialog = page.locator("dialog#dialog")
    expect(dialog.locator(".dialog-title")).to_have_text("Launch job knead_job")
    expect(dialog.locator("[data-lp-config-status]")).to_have_text("1 problem")
    editor = dialog.get_by_label("Run config (YAML)")
    editor.fill(editor.input_value().replace("minutes:", "minutes: 7", 1))
    expect(dialog.locator("[data-lp-config-status]")).to_have_text("Config is valid")
    dialog.get_by_role("button", name="Launch run").click()
    run_id, run = _succeeded(page, server)
    assert run["job_name"] == "knead_job"
    with server.http() as http:
        events = http.get(f"/api/runs/{run_id}").json()["events"]
    assert any("kneaded for 7 minutes" in (e.get("message") or "") for e in events)


@pytest.mark.parametrize("path", ["/jobs", "/jobs/lp_kitchen/bread_job"])
def test_the_jobs_pages_load_nothing_from_other_hosts(
    page: Any, server: DevServer, path: str
) -> None:
    assert other_host_requests(page, server, path) == []

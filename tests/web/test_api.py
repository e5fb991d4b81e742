"""The JSON API over a real deployment: a real code server per location, real SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bakehouse.host.deployment import Deployment
from bakehouse.project.workspace import find_workspace
from bakehouse.storage import Instance
from tests.support.api import finished_run
from tests.support.projects import write_project, write_workspace
from tests.web.server import serve

pytestmark = pytest.mark.slow

MILL = {
    "defs/flour.py": """\
        import bakehouse as dg


        @dg.asset(group_name="mill", kinds={"python"})
        def flour() -> int:
            \"\"\"Milled flour.\"\"\"
            return 500
        """
}
OVEN = {
    "defs/bread.py": """\
        import bakehouse as dg


        @dg.asset(deps=["flour"])
        def bread() -> dg.MaterializeResult:
            note = dg.MetadataValue.md("*warm*")
            return dg.MaterializeResult(metadata={"loaves": 2, "note": note})


        @dg.asset
        def burnt():
            raise RuntimeError("too hot")
        """
}
BROKEN = {"defs/cake.py": "import bakehouse as dg\n\nraise ImportError('no eggs')\n"}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[httpx.Client]:
    write_project(tmp_path / "mill", "api_mill", MILL)
    write_project(tmp_path / "oven", "api_oven", OVEN)
    write_project(tmp_path / "cake", "api_cake", BROKEN, defs_errors="fail")
    write_workspace(tmp_path, ["mill", "oven", "cake"])
    workspace = find_workspace(tmp_path)
    with Instance.for_home(tmp_path / ".bakehouse") as instance:
        deployment = Deployment(workspace, instance, heartbeat_interval=0.5)
        deployment.start()
        try:
            with serve(deployment) as url, httpx.Client(base_url=url, timeout=120) as http:
                yield http
        finally:
            deployment.stop()


def test_locations_show_each_status_and_the_error(client: httpx.Client) -> None:
    locations = {loc["name"]: loc for loc in client.get("/api/locations").json()}
    assert locations["api_mill"]["status"] == "LOADED"
    assert locations["api_mill"]["asset_count"] == 1
    assert locations["api_mill"]["pid"] > 0
    assert locations["api_cake"]["status"] == "FAILED"
    assert "ImportError: no eggs" in locations["api_cake"]["error"]["traceback"]
    assert locations["api_cake"]["serving_last_good"] is False


def test_reload_one_and_all(client: httpx.Client) -> None:
    before = {loc["name"]: loc["pid"] for loc in client.get("/api/locations").json()}
    reloaded = client.post("/api/locations/api_mill/reload").json()
    assert reloaded["status"] == "LOADED"
    assert reloaded["pid"] != before["api_mill"]
    after = {loc["name"]: loc["pid"] for loc in client.get("/api/locations").json()}
    assert after["api_oven"] == before["api_oven"]
    assert client.post("/api/locations/nope/reload").status_code == 404
    everything = client.post("/api/reload").json()
    assert [loc["name"] for loc in everything] == ["api_cake", "api_mill", "api_oven"]


def test_assets_merge_locations_with_cross_location_deps(client: httpx.Client) -> None:
    assets = {a["key"]: a for a in client.get("/api/assets").json()}
    assert assets["flour"]["location"] == "api_mill"
    assert assets["bread"]["location"] == "api_oven"
    assert assets["bread"]["deps"] == ["flour"]
    assert assets["flour"]["latest_materialization"] is None
    assert assets["flour"]["latest_run_status"] is None
    assert assets["flour"]["state"] == "never"
    detail = client.get("/api/assets/flour").json()
    assert detail["downstream"] == ["bread"]
    assert detail["description"] == "Milled flour."
    assert detail["source_file"].endswith("defs/flour.py")
    assert client.get("/api/assets/nope").status_code == 404
    picked = client.get("/api/assets", params={"selection": "+bread"}).json()
    assert sorted(a["key"] for a in picked) == ["bread", "flour"]
    bad = client.get("/api/assets", params={"selection": "key:("})
    assert bad.status_code == 400


def test_launch_a_cross_location_run_and_read_its_events(client: httpx.Client) -> None:
    created = client.post("/api/runs", json={"selection": "+bread"})
    assert created.status_code == 201
    run = finished_run(client, created.json()["run_id"])
    assert run["status"] == "SUCCESS"
    assert run["asset_selection"] == ["flour", "bread"]
    kinds = [e["event_type"] for e in run["events"]]
    assert kinds[0] == "RUN_QUEUED"
    assert kinds[-1] == "RUN_SUCCESS"
    materialized = [
        e["asset_key"] for e in run["events"] if e["event_type"] == "ASSET_MATERIALIZATION"
    ]
    assert materialized == ["flour", "bread"]
    # Events are the stored records themselves, so each names its run.
    assert {e["run_id"] for e in run["events"]} == {run["run_id"]}
    bread = client.get("/api/assets/bread").json()
    assert bread["latest_materialization"]["metadata"]["loaves"] == {"type": "int", "value": 2}
    assert len(bread["history"]) == 1
    assert (bread["latest_run_status"], bread["state"]) == ("SUCCESS", "materialized")
    runs = client.get("/api/runs").json()
    assert runs[0]["run_id"] == run["run_id"]
    assert runs[0]["tags"]["bakehouse/launched_by"] == "ui"


def test_reexecute_from_failure_runs_only_what_failed(client: httpx.Client) -> None:
    first = finished_run(
        client, client.post("/api/runs", json={"selection": "bread, burnt"}).json()["run_id"]
    )
    assert first["status"] == "FAILURE"
    again = client.post(f"/api/runs/{first['run_id']}/reexecute", json={"from_failure": True})
    assert again.status_code == 201
    second = finished_run(client, again.json()["run_id"])
    assert second["asset_selection"] == ["burnt"]
    assert second["tags"]["bakehouse/parent_run_id"] == first["run_id"]
    burnt = client.get("/api/assets/burnt").json()
    assert (burnt["latest_run_status"], burnt["state"]) == ("FAILURE", "failed")
    success = finished_run(
        client, client.post("/api/runs", json={"asset_keys": ["flour"]}).json()["run_id"]
    )
    conflict = client.post(f"/api/runs/{success['run_id']}/reexecute", json={"from_failure": True})
    assert conflict.status_code == 409


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"selection": "nope"}, 400),
        # "Exactly one target" is not something the schema can say: a 400, like a bad selection.
        ({"selection": "*", "job": "x"}, 400),
        ({}, 400),
        ({"selection": "*", "unknown": 1}, 422),
        ({"asset_keys": ["not_there"]}, 400),
        ({"job": "no_such_job"}, 400),
    ],
)
def test_bad_launch_requests_are_client_errors(
    client: httpx.Client, body: dict[str, Any], status: int
) -> None:
    response = client.post("/api/runs", json=body)
    assert response.status_code == status
    assert response.json()["detail"]


def test_unknown_run_is_404_and_openapi_is_served(client: httpx.Client) -> None:
    assert client.get("/api/runs/nope").status_code == 404
    assert client.post("/api/runs/nope/cancel").status_code == 404
    schema = client.get("/api/openapi.json").json()
    for path in (
        "/api/locations",
        "/api/locations/{name}/reload",
        "/api/reload",
        "/api/assets",
        "/api/runs",
        "/api/runs/{run_id}",
    ):
        assert path in schema["paths"]
    # The API describes an event with the storage record's own schema, not a mirror of it.
    schemas = schema["components"]["schemas"]
    events = schemas["RunDetailOut"]["properties"]["events"]["items"]["anyOf"]
    assert {"$ref": "#/components/schemas/EventRecord"} in events
    assert "storage_id" in schemas["EventRecord"]["properties"]
    # Records keep their field descriptions in the schema.
    status = schemas["LocationOut"]["properties"]["status"]
    assert status["description"] == "LOADING, LOADED, LOADED_WITH_ERRORS or FAILED"
    assert client.get("/api/runs", params={"limit": 0}).status_code == 422
    assert client.get("/api/runs", params={"status": "BOGUS"}).status_code == 422

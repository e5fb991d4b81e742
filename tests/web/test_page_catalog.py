"""The asset catalog and what it shares with the lineage page (partition counts, location
colours), in headless chromium over `bh dev` as a real process, and its API filters.

One workspace for the module: ``cat_farm`` (groups grains and dairy, a partitioned asset, owners
and kinds) and ``cat_shop`` (group retail, an asset with a passing and a failing check).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from bakehouse.web.location_colors import location_color
from tests.support.dev_server import DevServer, running_dev_server
from tests.support.projects import write_project, write_workspace
from tests.web.conftest import Shots, other_host_requests, playwright_expect as _expect

pytestmark = pytest.mark.slow

FARM = {
    "defs/farm.py": """\
        import bakehouse as dg

        fields = dg.StaticPartitionsDefinition(["north", "south", "east", "west"])


        @dg.asset(group_name="grains", kinds={"python"}, owners=["team:growers"])
        def wheat() -> int:
            return 10


        @dg.asset(group_name="grains", kinds={"python"})
        def rye() -> int:
            return 4


        @dg.asset(group_name="grains", partitions_def=fields, owners=["team:growers"])
        def harvest(context: dg.AssetExecutionContext) -> str:
            return context.partition_key


        @dg.asset(group_name="dairy", kinds={"duckdb"}, owners=["ann@farm.example"])
        def milk() -> int:
            return 2


        @dg.asset(group_name="dairy", kinds={"duckdb"}, deps=["milk"])
        def butter() -> None:
            raise RuntimeError("the churn is broken")
        """
}
SHOP = {
    "defs/shop.py": """\
        import bakehouse as dg


        @dg.asset(group_name="retail", deps=["wheat"], kinds={"python"})
        def shelf() -> int:
            return 3


        @dg.asset(group_name="retail")
        def till() -> int:
            return 0


        @dg.asset_check(asset=shelf)
        def stocked(shelf: int) -> dg.AssetCheckResult:
            return dg.AssetCheckResult(passed=shelf > 0)


        @dg.asset_check(asset=shelf)
        def dusted() -> dg.AssetCheckResult:
            return dg.AssetCheckResult(passed=False)
        """
}
# More rows than the window of rows the table holds at 1440x900 (it draws only those around
# the viewport).
CRATES = [f"zz_crate_{i:03d}" for i in range(120)]
SHOP["defs/crates.py"] = "import bakehouse as dg\n" + "".join(
    f'\n\n@dg.asset(group_name="crates")\ndef {key}() -> None:\n    return None\n' for key in CRATES
)
GROUPS = {
    "grains": ["harvest", "rye", "wheat"],
    "dairy": ["butter", "milk"],
    "retail": ["shelf", "till"],
    "crates": CRATES,
}
ALL = sorted(k for keys in GROUPS.values() for k in keys)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    root = tmp_path_factory.mktemp("catalog")
    write_project(root / "farm", "cat_farm", FARM)
    write_project(root / "shop", "cat_shop", SHOP)
    write_workspace(root, ["farm", "shop"])
    with running_dev_server(root) as dev, dev.http() as http:
        # Two partitions of harvest, shelf with its checks, and butter's failure.
        for body in (
            {"asset_keys": ["harvest"], "partition_key": "north"},
            {"asset_keys": ["harvest"], "partition_key": "east"},
            {"asset_keys": ["wheat", "shelf"]},
            {"asset_keys": ["milk", "butter"]},
        ):
            created = http.post("/api/runs", json=body)
            assert created.status_code == 201, created.text
            dev.wait_finished(created.json()["run_id"])
        yield dev


def _keys(http: httpx.Client, **params: str) -> list[str]:
    response = http.get("/api/assets", params=params)
    assert response.status_code == 200, response.text
    return [a["key"] for a in response.json()]


def _catalog(page: Any, query: str = "") -> None:
    page.goto("/assets" + query)
    page.wait_for_selector("body[data-catalog=ready]", state="attached")


def _shown(page: Any) -> list[str]:
    """The keys the view lists, in order, checked against the table: it holds a window of them
    (the rows around the viewport), consecutive from where the window starts."""
    keys: list[str] = page.evaluate("bhCatalog.shownKeys()")
    start = page.evaluate("bhCatalog.renderedFrom()")
    rendered = page.locator("#catalog-body tr").evaluate_all("rows => rows.map(r => r.dataset.key)")
    assert rendered == keys[start : start + len(rendered)]
    assert len(rendered) >= min(len(keys), 20)  # a screenful at least
    return keys


def test_the_catalog_filtered_to_one_group_shows_exactly_that_groups_assets(
    page: Any, server: DevServer, shots: Shots
) -> None:
    expect = _expect()
    _catalog(page)
    assert _shown(page) == ALL
    shots.take(page, "catalog")
    page.select_option("#filter-group", "grains")
    expect(page.locator("#catalog-body tr")).to_have_count(len(GROUPS["grains"]))
    assert _shown(page) == GROUPS["grains"]
    expect(page.locator("#catalog-count")).to_have_text(f"3 of {len(ALL)} assets")
    page.select_option("#filter-group", "")  # every row again
    expect(page.locator("#catalog-count")).to_have_text(f"{len(ALL)} assets")
    assert _shown(page) == ALL
    assert page.evaluate("bhCatalog.renderedRows()") < len(ALL)  # a window of them
    page.select_option("#filter-group", "grains")
    expect(page.locator("#catalog-body tr")).to_have_count(len(GROUPS["grains"]))
    assert page.url.endswith("/assets?group=grains")
    # The address is the view: a link to it opens the same rows.
    page.reload()
    page.wait_for_selector("body[data-catalog=ready]", state="attached")
    assert page.locator("#filter-group").input_value() == "grains"
    assert _shown(page) == GROUPS["grains"]
    with server.http() as http:
        for group, keys in GROUPS.items():
            assert _keys(http, group=group) == keys
            _catalog(page, "?" + urlencode({"group": group}))
            assert _shown(page) == keys


def test_search_filters_and_sorting_in_the_page_match_the_api(page: Any, server: DevServer) -> None:
    queries = [
        {"q": "R"},
        {"kind": "duckdb"},
        {"owner": "team:growers"},
        {"location": "cat_shop"},
        {"status": "failed"},
        {"status": "never", "sort": "-key"},
        {"sort": "-materialized"},
        {"sort": "partitions"},
        {"sort": "-checks"},
        {"sort": "status", "group": "dairy"},
        {"q": "e", "kind": "python", "sort": "-group"},
    ]
    with server.http() as http:
        for query in queries:
            _catalog(page, "?" + urlencode(query))
            assert _shown(page) == _keys(http, **query), query
        assert _keys(http, q="R") == ["butter", "harvest", "rye", *CRATES]
    # Typing and clicking headers change the view and the address.
    _catalog(page)
    page.fill("#catalog-search", "il")
    _expect()(page.locator("#catalog-body tr")).to_have_count(2)  # milk, till
    page.click("button[data-sort=key]")  # the key order turns round
    _expect()(page.locator("#catalog-body tr").first).to_have_attribute("data-key", "till")
    assert _shown(page) == ["till", "milk"]
    assert "sort=-key" in page.url
    assert "q=il" in page.url
    page.click("button[data-sort=materialized]")
    assert page.locator("th:has(button[data-sort=materialized])").get_attribute("aria-sort") == (
        "ascending"
    )
    assert _shown(page) == ["milk", "till"]


def test_status_partitions_and_checks_columns(page: Any, server: DevServer) -> None:
    expect = _expect()
    _catalog(page)
    row = page.locator("#catalog-body tr[data-key=harvest]")
    expect(row).to_contain_text("2/4")
    expect(page.locator("#catalog-body tr[data-key=butter] .pill")).to_have_text("Failed")
    expect(page.locator("#catalog-body tr[data-key=rye] .pill")).to_have_text("Never")
    shelf = page.locator("#catalog-body tr[data-key=shelf]")
    expect(shelf.locator(".check-ok")).to_have_text("✓ 1")
    expect(shelf.locator(".check-bad")).to_have_text("✗ 1")
    with server.http() as http:
        assets = {a["key"]: a for a in http.get("/api/assets").json()}
    assert assets["harvest"]["partitions"] == {"materialized": 2, "total": 4}
    assert assets["rye"]["partitions"] is None
    assert assets["shelf"]["check_counts"] == {"total": 2, "passed": 1, "failed": 1}
    assert assets["wheat"]["check_counts"] is None
    assert assets["wheat"]["owners"] == ["team:growers"]
    assert (assets["butter"]["state"], assets["milk"]["state"]) == ("failed", "materialized")


def test_lineage_nodes_show_partition_counts(page: Any, server: DevServer) -> None:
    page.goto("/lineage")
    page.wait_for_selector("body[data-lineage=ready]", state="attached")
    assert page.evaluate("bhLineage.partitions('harvest')") == "2/4"
    assert page.evaluate("bhLineage.partitions('wheat')") == ""
    with server.http() as http:
        keys = [n["key"] for n in http.get("/api/graph").json()["nodes"]]
        counts = http.get("/api/graph/status").json()["partitions"]
        assert counts[str(keys.index("harvest"))] == [2, 4]
        assert str(keys.index("milk")) not in counts
        created = http.post("/api/runs", json={"asset_keys": ["harvest"], "partition_key": "west"})
        server.wait_finished(created.json()["run_id"])
    # The count follows a new materialization live.
    page.wait_for_function("bhLineage.partitions('harvest') === '3/4'")
    _catalog(page, "?q=harvest")
    _expect()(page.locator("#catalog-body tr[data-key=harvest]")).to_contain_text("3/4")


def test_location_colours_come_from_the_name_and_stay_across_loads(
    page: Any, server: DevServer
) -> None:
    wanted = {name: location_color(name) for name in ("cat_farm", "cat_shop")}
    assert wanted["cat_farm"] != wanted["cat_shop"]
    # The same in another interpreter with another hash seed: a digest, not `hash()`.
    for seed in ("1", "2"):
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                "from bakehouse.web.location_colors import location_color as c;"
                "print(c('cat_farm'), c('cat_shop'))",
            ],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        assert out == [wanted["cat_farm"], wanted["cat_shop"]]
    seen = []
    for _ in range(2):
        page.goto("/lineage")
        page.wait_for_selector("body[data-lineage=ready]", state="attached")
        seen.append({n: page.evaluate(f"bhLineage.locationColor('{n}')") for n in wanted})
        with server.http() as http:  # reload both: code servers restart, snapshots come anew
            assert http.post("/api/reload").status_code == 200
            server.wait_loaded()
    assert seen == [wanted, wanted]
    _catalog(page)
    dot = page.locator("#catalog-body tr[data-key=shelf] .loc-dot")
    rgb = dot.evaluate("el => getComputedStyle(el).backgroundColor")
    red, green, blue = (int(wanted["cat_shop"][i : i + 2], 16) for i in (1, 3, 5))
    assert rgb == f"rgb({red}, {green}, {blue})"


def test_the_api_refuses_bad_filters_with_4xx(server: DevServer) -> None:
    with server.http() as http:
        assert http.get("/api/assets", params={"status": "nope"}).status_code == 422
        assert http.get("/api/assets", params={"sort": "size"}).status_code == 422
        assert http.get("/api/assets", params={"q": "x" * 201}).status_code == 422
        assert http.get("/api/assets", params={"selection": "key:("}).status_code == 400
        assert _keys(http, group="nope") == []
        assert _keys(http, selection="group:grains", owner="team:growers") == ["harvest", "wheat"]
        schema = http.get("/api/openapi.json").json()
    operation = schema["paths"]["/api/assets"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"q", "group", "location", "kind", "owner", "status", "sort"} <= names
    assert {"400", "422"} <= set(operation["responses"])


def test_the_catalog_loads_nothing_from_other_hosts(page: Any, server: DevServer) -> None:
    assert other_host_requests(page, server, "/assets") == []

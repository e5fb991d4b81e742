"""`/api/graph` (structure, served once per definitions version by ETag), `/api/graph/status`
(statuses in the structure's node order) and `/api/assets` paged by cursor, over a real code
server and real SQLite."""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bakehouse.host.deployment import Deployment
from bakehouse.project.workspace import find_workspace
from bakehouse.storage import EventRecord, EventType, Instance, RunRecord, RunStatus
from tests.support.projects import write_project, write_workspace
from tests.web.server import serve

pytestmark = pytest.mark.slow

KEYS = ["a_flour", "b_water", "c_dough", "d_loaf", "e_slice"]

BAKERY = {
    "defs/chain.py": """\
        import bakehouse as dg


        @dg.asset(group_name="mill")
        def a_flour() -> int:
            return 1


        @dg.asset(group_name="mill")
        def b_water() -> int:
            return 1


        @dg.asset(deps=["a_flour", "b_water"], group_name="oven")
        def c_dough() -> int:
            return 1


        @dg.asset(deps=["c_dough"], group_name="oven")
        def d_loaf() -> int:
            return 1


        @dg.asset(deps=["d_loaf"], group_name="mill")
        def e_slice() -> int:
            return 1
        """
}


@dataclass
class Served:
    """A served deployment's HTTP client, its instance and its project folder."""

    http: httpx.Client
    instance: Instance
    project: Path


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    project = tmp_path / "bakery"
    write_project(project, "paging_bakery", BAKERY)
    write_workspace(tmp_path, ["bakery"])
    with Instance.for_home(tmp_path / ".bakehouse") as instance:
        # No daemon: the tests write runs straight to storage, and a run queue would start
        # the ones left QUEUED and change the statuses under test.
        deployment = Deployment(
            find_workspace(tmp_path), instance, heartbeat_interval=0.5, daemon=False
        )
        deployment.start()
        try:
            with serve(deployment) as url, httpx.Client(base_url=url, timeout=120) as http:
                yield Served(http, instance, project)
        finally:
            deployment.stop()


def _materialize(instance: Instance, run_id: str, key: str) -> int:
    instance.create_run(RunRecord(run_id=run_id, asset_selection=(key,)))
    instance.store_event(
        EventRecord(run_id=run_id, event_type=EventType.RUN_START, timestamp=time.time())
    )
    stored = instance.store_event(
        EventRecord(
            run_id=run_id,
            event_type=EventType.ASSET_MATERIALIZATION,
            asset_key=key,
            timestamp=time.time(),
        )
    )
    instance.store_event(
        EventRecord(run_id=run_id, event_type=EventType.RUN_SUCCESS, timestamp=time.time())
    )
    assert stored.storage_id is not None
    return stored.storage_id


def test_the_graph_is_served_once_per_definitions_version_by_etag(served: Served) -> None:
    http = served.http
    first = http.get("/api/graph")
    assert first.status_code == 200
    etag = first.headers["etag"]
    body = first.json()
    assert body["etag"] == etag
    assert sorted(n["key"] for n in body["nodes"]) == KEYS
    assert "state" not in body["nodes"][0]  # statuses are served apart
    again = http.get("/api/graph", headers={"if-none-match": etag})
    assert again.status_code == 304
    assert again.content == b""
    listed = http.get("/api/graph", headers={"if-none-match": f'"other", {etag}'})
    assert listed.status_code == 304
    assert http.get("/api/graph", headers={"if-none-match": '"stale"'}).status_code == 200
    # A selection is another graph, with its own tag.
    picked = http.get("/api/graph", params={"selection": "group:oven"})
    assert sorted(n["key"] for n in picked.json()["nodes"]) == ["c_dough", "d_loaf"]
    assert picked.headers["etag"] != etag
    assert http.get("/api/graph", params={"selection": "nope"}).status_code == 400
    # New definitions: a new version, a new tag, and the old one no longer matches.
    (served.project / "src" / "paging_bakery" / "defs" / "crumb.py").write_text(
        "import bakehouse as dg\n\n\n@dg.asset(deps=['e_slice'])\ndef f_crumb() -> int:\n"
        "    return 1\n"
    )
    assert http.post("/api/reload").status_code == 200
    changed = http.get("/api/graph", headers={"if-none-match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert len(changed.json()["nodes"]) == len(KEYS) + 1


def test_api_answers_are_gzipped_and_pages_are_not(served: Served) -> None:
    """The JSON API's answers come gzipped to a client that accepts it, plain to one that does
    not; HTML pages, which embed the form token, never are (a compression side channel could
    read the token from their sizes); a revalidated graph is still an empty 304."""
    http = served.http
    plain = http.get("/api/graph", headers={"accept-encoding": "identity"})
    assert plain.status_code == 200
    assert "content-encoding" not in plain.headers
    assert len(plain.content) >= 1024  # over the compression's minimum size
    with http.stream("GET", "/api/graph", headers={"accept-encoding": "gzip"}) as zipped:
        assert zipped.headers["content-encoding"] == "gzip"
        assert "accept-encoding" in zipped.headers["vary"].lower()
        wire = b"".join(zipped.iter_raw())
    assert gzip.decompress(wire) == plain.content
    assert len(wire) < len(plain.content)
    not_modified = http.get(
        "/api/graph", headers={"accept-encoding": "gzip", "if-none-match": plain.headers["etag"]}
    )
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    for path in ("/assets", "/assets/c_dough", "/lineage"):
        page = http.get(path, headers={"accept-encoding": "gzip"})
        assert page.status_code == 200, path
        assert "content-encoding" not in page.headers, path
    assert 'name="csrf_token"' in page.text  # /lineage: the reload form


def test_statuses_follow_the_graph_s_node_order(served: Served) -> None:
    http = served.http
    keys = [n["key"] for n in http.get("/api/graph").json()["nodes"]]
    status = http.get("/api/graph/status").json()
    assert len(status["state"]) == len(status["materialized_at"]) == len(keys)
    assert {status["states"][s] for s in status["state"]} == {"never"}
    stored = _materialize(served.instance, "r1", "d_loaf")
    status = http.get("/api/graph/status").json()
    i = keys.index("d_loaf")
    assert status["states"][status["state"][i]] == "materialized"
    assert status["runs"][status["materialized_run"][i]][:2] == ["r1", "SUCCESS"]
    assert status["materialized_at"][i] is not None
    assert status["cursor"] >= stored
    assert status["states"][status["state"][keys.index("c_dough")]] == "never"
    picked = http.get("/api/graph/status", params={"selection": "d_loaf"}).json()
    assert [picked["states"][s] for s in picked["state"]] == ["materialized"]
    assert http.get("/api/graph/status", params={"selection": "nope"}).status_code == 400


def test_statuses_and_asset_pages_are_read_once_per_data_version(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    http = served.http
    instance = served.instance
    reads: list[object] = []
    real = instance.get_latest_materializations

    def counted(*args: object, **kwargs: object) -> object:
        reads.append(args)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    # The deployment's own instance: count how often the answers read every latest row.
    monkeypatch.setattr(instance, "get_latest_materializations", counted)
    _materialize(instance, "r1", "d_loaf")
    first = http.get("/api/graph/status").content
    page = http.get("/api/assets", params={"limit": 2}).content
    read_once = len(reads)
    assert read_once == 2
    assert http.get("/api/graph/status").content == first
    assert http.get("/api/assets", params={"limit": 2}).content == page
    assert len(reads) == read_once  # nothing changed: nothing read again

    # A run's status changed without an event (`update_run`): both are read again.
    instance.create_run(RunRecord(run_id="r2", asset_selection=("d_loaf",)))
    keys = [n["key"] for n in http.get("/api/graph").json()["nodes"]]
    status = http.get("/api/graph/status").json()
    assert status["states"][status["state"][keys.index("d_loaf")]] == "queued"
    instance.update_run("r2", status=RunStatus.FAILURE)
    status = http.get("/api/graph/status").json()
    assert status["states"][status["state"][keys.index("d_loaf")]] == "failed"
    rows = http.get("/api/assets", params={"selection": "d_loaf"}).json()
    assert [r["state"] for r in rows] == ["failed"]
    # A new event: read again too.
    _materialize(instance, "r3", "e_slice")
    status = http.get("/api/graph/status").json()
    assert status["states"][status["state"][keys.index("e_slice")]] == "materialized"


def _all_pages(http: httpx.Client, **params: str | int) -> tuple[list[str], int]:
    keys: list[str] = []
    pages = 0
    cursor = None
    while True:
        query = dict(params) | ({"cursor": cursor} if cursor else {})
        answer = http.get("/api/assets", params=query)
        assert answer.status_code == 200, answer.text
        pages += 1
        keys += [a["key"] for a in answer.json()]
        assert answer.headers["x-total-count"] == str(len(KEYS))
        cursor = answer.headers.get("x-next-cursor")
        if cursor is None:
            assert "link" not in answer.headers
            return keys, pages
        assert answer.headers["link"].endswith('>; rel="next"')


def test_assets_are_paged_with_a_cursor_in_every_sort(served: Served) -> None:
    http = served.http
    _materialize(served.instance, "r1", "c_dough")
    everything = [a["key"] for a in http.get("/api/assets").json()]
    assert everything == KEYS  # under the default page size: one answer, as before
    assert _all_pages(http, limit=2) == (KEYS, 3)
    assert _all_pages(http, limit=2, sort="-key") == (KEYS[::-1], 3)
    by_status = [a["key"] for a in http.get("/api/assets", params={"sort": "status"}).json()]
    assert _all_pages(http, limit=2, sort="status") == (by_status, 3)
    assert _all_pages(http, limit=1, sort="group")[0] == [
        a["key"] for a in http.get("/api/assets", params={"sort": "group"}).json()
    ]
    # The Link header is the next page's URL.
    first = http.get("/api/assets", params={"limit": 3})
    link = first.headers["link"].split(">")[0].lstrip("<")
    assert [a["key"] for a in http.get(link).json()] == KEYS[3:]


@pytest.mark.parametrize(
    ("params", "code", "says"),
    [
        ({"cursor": "not-a-cursor"}, 400, "not a cursor of /api/assets"),
        ({"cursor": "WzEsMiwzXQ"}, 400, "not a cursor"),  # valid base64 JSON, wrong shape
        ({"limit": 0}, 422, "limit"),
        ({"limit": 10_001}, 422, "limit"),
    ],
)
def test_bad_paging_is_a_client_error(
    served: Served, params: dict[str, str | int], code: int, says: str
) -> None:
    answer = served.http.get("/api/assets", params=params)
    assert answer.status_code == code
    assert says in answer.text


def test_a_cursor_of_another_sort_is_refused(served: Served) -> None:
    cursor = served.http.get("/api/assets", params={"limit": 2}).headers["x-next-cursor"]
    answer = served.http.get("/api/assets", params={"cursor": cursor, "sort": "-key"})
    assert answer.status_code == 400
    assert "sorted by 'key', not '-key'" in answer.json()["detail"]

"""The OpenAPI schema and what the API does (issue 13, item 12): each route's 4xx answers are
listed with examples that work, OPTIONS and 405 say what a path serves, /api/docs needs no other
host, and schemathesis with every check, bounded in examples, finds nothing on a real ``bh dev``
(no 5xx, no undocumented status, no answer that breaks the schema, no bad input accepted)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.security.conftest import write_bakery
from tests.support.dev_server import DevServer, running_dev_server

pytestmark = pytest.mark.slow

CONFIG = Path(__file__).with_name("schemathesis.toml")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    with running_dev_server(write_bakery(tmp_path_factory.mktemp("fuzz") / "bakery")) as dev:
        yield dev


def _schemathesis() -> str:
    found = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip("schemathesis is not installed (pip install -e '.[dev]')")
    return found


def test_the_api_keeps_to_its_schema_under_fuzzing(server: DevServer, tmp_path: Path) -> None:
    # Give the fuzzer a run and a backfill to find (links from list answers to detail routes).
    with httpx.Client(base_url=server.url, timeout=60) as http:
        assert http.post("/api/runs", json={"selection": "flour"}).status_code == 201
        backfill = http.post("/api/backfills", json={"selection": "daily_sales"})
        assert backfill.status_code == 201
    done = subprocess.run(
        [
            _schemathesis(),
            "--config-file",
            str(CONFIG),
            "--no-color",
            "run",
            server.url + "/api/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            "10",
            "--seed",
            "13",
            "--workers",
            "1",
            "--phases",
            "examples,coverage,fuzzing",
            "--suppress-health-check",
            "all",
            "--request-timeout",
            "60",
            # Server-sent event streams never end; they are tested in tests/web.
            "--exclude-path-regex",
            "/stream$",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,  # it keeps a cache of crashes in the working directory
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, report[-6000:]
    assert re.search(r"(\d+) generated, \1 passed", report), report[-3000:]


def _schema(server: DevServer) -> dict[str, Any]:
    schema: dict[str, Any] = httpx.get(server.url + "/api/openapi.json", timeout=30).json()
    return schema


def test_every_route_lists_its_client_errors_with_examples(server: DevServer) -> None:
    operations = [
        (method, path, operation)
        for path, item in _schema(server)["paths"].items()
        for method, operation in item.items()
    ]
    assert len(operations) >= 19
    for method, path, operation in operations:
        answers = operation["responses"]
        expected = {"400", "401"} | ({"403", "413"} if method == "post" else set())
        assert expected <= set(answers), (method, path, sorted(answers))
        if "{" in path:
            assert "404" in answers, (method, path)
        for code, answer in answers.items():
            if code.startswith("4") and code != "422":
                assert "content" in answer, (method, path, code, answer)
                example = answer["content"]["application/json"]["example"]
                assert example["detail"], (method, path, code)


def test_the_run_example_works_and_names_no_asset_that_may_not_exist(server: DevServer) -> None:
    examples = _schema(server)["components"]["schemas"]["RunRequest"]["examples"]
    assert examples == [{"selection": "*"}]
    answer = httpx.post(server.url + "/api/runs", json=examples[0], timeout=60)
    assert answer.status_code == 400  # "*" includes daily_sales, which needs a partition
    assert "partition" in answer.json()["detail"]
    launched = httpx.post(
        server.url + "/api/runs", json={**examples[0], "partition_key": "2024-01-02"}, timeout=60
    )
    assert launched.status_code == 201, launched.text


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/api/runs", "GET, HEAD, OPTIONS, POST"),
        ("/api/runs/some-run", "GET, HEAD, OPTIONS"),
        ("/api/reload", "OPTIONS, POST"),
        ("/api/assets/a/b/c", "GET, HEAD, OPTIONS"),
        ("/lineage", "GET, HEAD, OPTIONS"),
        ("/static/app.css", "GET, HEAD, OPTIONS"),
    ],
)
def test_options_and_405_say_what_a_path_serves(server: DevServer, path: str, allow: str) -> None:
    options = httpx.options(server.url + path, timeout=30)
    assert options.status_code == 204
    assert options.headers["allow"] == allow
    assert "access-control-allow-origin" not in options.headers
    refused = httpx.put(server.url + path, timeout=30)
    assert refused.status_code == 405
    assert refused.headers["allow"] == allow
    assert httpx.options(server.url + "/nowhere", timeout=30).status_code == 404


@pytest.mark.parametrize(
    "path",
    ["/api/openapi.json", "/api/runs", "/api/assets", "/api/runs/no-such-run", "/lineage", "/"],
)
def test_head_answers_wherever_get_does_without_a_body(server: DevServer, path: str) -> None:
    got = httpx.get(server.url + path, timeout=30)
    head = httpx.head(server.url + path, timeout=30)
    assert head.status_code == got.status_code
    assert head.headers.get("content-type") == got.headers.get("content-type")
    assert head.content == b""
    if path == "/api/openapi.json":  # the same bytes every time: the same length
        assert head.headers["content-length"] == got.headers["content-length"]


def test_head_of_the_event_stream_ends_after_its_headers(server: DevServer) -> None:
    head = httpx.head(server.url + "/api/stream", timeout=30)
    assert head.status_code == 200
    assert head.headers["content-type"].startswith("text/event-stream")
    assert head.content == b""
    assert httpx.head(server.url + "/api/reload", timeout=30).status_code == 405


def test_the_docs_page_lists_every_operation_and_loads_nothing_from_elsewhere(
    browser: Any, server: DevServer
) -> None:
    context = browser.new_context(base_url=server.url)
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    try:
        page.goto("/api/docs")
        page.wait_for_load_state("load")
        titles = page.locator("section.api-op h2").all_inner_texts()
    finally:
        context.close()
    assert [u for u in requested if not u.startswith(server.url + "/")] == []
    schema = _schema(server)
    listed = {f"{m.upper()} {p}" for p, item in schema["paths"].items() for m in item}
    assert set(titles) == listed

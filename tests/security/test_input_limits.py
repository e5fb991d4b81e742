"""Bounded input: deep selections are a 400 (API, pages) or one line (CLI) with the position;
bodies over the limit are a 413 before they are read whole; tags are bounded in count and size;
no error echoes more than 200 characters of its input. Against a real ``bh dev``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.dev_server import DevServer, running_dev_server
from tests.support.faults import bh, small_project

pytestmark = pytest.mark.slow

DEEP_PARENS = "(" * 300 + "orders" + ")" * 300
DEEP_NOTS = "not " * 1000 + "orders"
HUGE = "orders," * 200_000  # 1.4 MB


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small project: orders -> totals."""
    return small_project(tmp_path_factory.mktemp("limits") / "shop")


@pytest.fixture(scope="module")
def server(project: Path) -> Iterator[DevServer]:
    """``bh dev`` on the project."""
    with running_dev_server(project, loaded=set()) as running:
        yield running


def _post(server: DevServer, path: str, **kwargs: object) -> httpx.Response:
    # A same-origin request, as the UI's own scripts send.
    headers = {"Origin": server.url, **kwargs.pop("headers", {})}  # type: ignore[dict-item]
    return httpx.post(server.url + path, headers=headers, timeout=60, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("selection", [DEEP_PARENS, DEEP_NOTS])
def test_a_deep_selection_is_a_400_with_the_position(server: DevServer, selection: str) -> None:
    answer = _post(server, "/api/runs", json={"selection": selection})
    assert answer.status_code == 400, answer.text[:300]
    detail = answer.json()["detail"]
    assert "at position" in detail
    assert "nested deeper than 64" in detail
    assert len(detail) < 200 + 150  # the quoted input is cut at 200 characters
    listed = httpx.get(server.url + "/api/assets", params={"selection": selection}, timeout=30)
    assert listed.status_code == 400
    assert "at position" in listed.json()["detail"]
    graph = httpx.get(server.url + "/api/graph", params={"selection": selection}, timeout=30)
    assert graph.status_code == 400
    page = httpx.get(server.url + "/lineage", params={"selection": selection}, timeout=30)
    assert page.status_code < 500


@pytest.mark.parametrize("selection", [DEEP_PARENS, DEEP_NOTS])
def test_a_deep_selection_is_one_line_in_the_cli(project: Path, selection: str) -> None:
    done = bh("launch", "--assets", selection, cwd=project)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "nested deeper than 64" in done.stderr
    assert "at position" in done.stderr
    assert len(done.stderr.splitlines()) <= 4  # click's usage line, a blank, the error


def test_a_body_over_the_limit_is_a_413_without_being_read(server: DevServer) -> None:
    answer = _post(server, "/api/runs", content=json.dumps({"selection": HUGE}).encode())
    assert answer.status_code == 413
    assert "larger than 1048576 bytes" in answer.json()["detail"]
    assert len(answer.content) < 300


def test_a_chunked_body_over_the_limit_is_a_413(server: DevServer) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"x" * 65536

    answer = _post(
        server, "/api/runs", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 413


def test_a_body_under_the_limit_still_works(server: DevServer) -> None:
    answer = _post(server, "/api/runs", json={"selection": "orders", "tags": {"team": "a"}})
    assert answer.status_code == 201, answer.text


@pytest.mark.parametrize(
    ("tags", "says"),
    [
        ({f"t{n}": "v" for n in range(101)}, "at most 100"),
        ({"k" * 64: "v"}, "each 1 to 63 characters"),
        ({"team": "v" * 64}, "at most 63 characters"),
    ],
)
def test_tags_are_bounded(server: DevServer, tags: dict[str, str], says: str) -> None:
    answer = _post(server, "/api/runs", json={"selection": "orders", "tags": tags})
    assert answer.status_code == 400
    assert says in answer.json()["detail"]
    assert len(answer.text) < 2000  # the error names the fault, not the whole input


def test_a_422_does_not_echo_a_large_input(server: DevServer) -> None:
    answer = _post(server, "/api/runs", json={"selection": 5, "job": "j" * 500_000})
    assert answer.status_code == 422
    assert len(answer.text) < 1500


@pytest.mark.parametrize(
    "path", ["/api/runs/{}", "/api/backfills/{}", "/api/assets/{}", "/runs/{}", "/backfills/{}"]
)
def test_not_found_answers_quote_at_most_200_characters(server: DevServer, path: str) -> None:
    long_id = "x" * 5000
    answer = httpx.get(server.url + path.format(long_id), timeout=30)
    assert answer.status_code == 404
    assert "x" * 201 not in answer.text
    assert "(5000 characters)" in answer.text

"""Each step's stdout and stderr on the run page (live, while the step runs) and through
``/api/runs/{id}/logs/{step}``, over `bh dev` as a real process and chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.dev_server import DevServer, running_dev_server
from tests.support.projects import write_project
from tests.web.conftest import Shots, playwright_expect

pytestmark = pytest.mark.slow

# A step that prints a line, then waits for the test to open each gate before the next one:
# the test decides when output appears, and sees it while the step is still running.
DRIP = """\
    import sys
    import time
    from pathlib import Path

    import bakehouse as dg

    GATES = Path({gates!r})


    def _wait(name: str) -> None:
        while not (GATES / name).exists():
            time.sleep(0.02)


    @dg.asset
    def drip() -> int:
        print("first line <b>not bold</b> & more")
        _wait("second")
        print("second line")
        print("a warning on stderr", file=sys.stderr)
        _wait("finish")
        print("last line")
        return 1


    @dg.asset
    def quiet() -> int:
        return 2
    """


@pytest.fixture(scope="module")
def gates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gates")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, gates: Path) -> Iterator[DevServer]:
    root = tmp_path_factory.mktemp("logs")
    write_project(root, "logs_demo", {"defs/drip.py": DRIP.format(gates=str(gates))})
    with running_dev_server(root) as dev:
        yield dev


def _launch(server: DevServer, key: str) -> str:
    created = httpx.post(server.url + "/api/runs", json={"asset_keys": [key]})
    assert created.status_code == 201, created.text
    run_id: str = created.json()["run_id"]
    return run_id


def _status(server: DevServer, run_id: str) -> str:
    status: str = httpx.get(f"{server.url}/api/runs/{run_id}").json()["status"]
    return status


@pytest.fixture(scope="module")
def finished_drip(server: DevServer, gates: Path) -> str:
    """A run of `drip` that has finished (for the API tests; the page test has its own)."""
    for gate in ("second", "finish"):
        (gates / gate).touch()
    run_id = _launch(server, "drip")
    assert server.wait_finished(run_id)["status"] == "SUCCESS"
    return run_id


def test_a_running_steps_output_appears_on_the_run_page_while_it_runs(
    page: Any, server: DevServer, gates: Path, shots: Shots
) -> None:
    for gate in gates.iterdir():
        gate.unlink()
    expect = playwright_expect()
    run_id = _launch(server, "drip")
    page.goto(f"/runs/{run_id}")
    stdout = page.locator("#compute-logs .logs-pane[data-step=drip] pre[data-stream=stdout]")

    expect(stdout).to_contain_text("first line <b>not bold</b> & more")
    assert _status(server, run_id) == "STARTED"  # the step waits at its gate
    assert page.locator("#compute-logs b").count() == 0  # the step's text is text, not markup
    (gates / "second").touch()
    expect(stdout).to_contain_text("second line")
    assert _status(server, run_id) == "STARTED"  # seen live: the step waits at the last gate
    assert stdout.inner_text().count("first line") == 1  # appended, never read again
    shots.take(page, "run-logs")

    page.locator("#compute-logs [data-stream=stderr]").first.click()
    stderr = page.locator("#compute-logs .logs-pane[data-step=drip] pre[data-stream=stderr]")
    expect(stderr).to_contain_text("a warning on stderr")
    expect(stdout).to_be_hidden()

    (gates / "finish").touch()
    assert server.wait_finished(run_id)["status"] == "SUCCESS"
    page.locator("#compute-logs [data-stream=stdout]").first.click()
    expect(stdout).to_contain_text("last line")
    expect(page.locator("#logs-note")).to_contain_text("complete")


def test_a_finished_runs_page_shows_each_steps_output(
    page: Any, server: DevServer, finished_drip: str
) -> None:
    expect = playwright_expect()
    quiet = _launch(server, "quiet")
    assert server.wait_finished(quiet)["status"] == "SUCCESS"
    page.goto(f"/runs/{quiet}")
    expect(page.locator("#logs-note")).to_have_text("This step wrote nothing to stdout.")

    page.goto(f"/runs/{finished_drip}")
    stdout = page.locator("#compute-logs .logs-pane[data-step=drip] pre[data-stream=stdout]")
    expect(stdout).to_contain_text("last line")
    assert stdout.text_content() == "first line <b>not bold</b> & more\nsecond line\nlast line\n"


def test_the_api_reads_a_steps_output_from_an_offset(server: DevServer, finished_drip: str) -> None:
    url = f"{server.url}/api/runs/{finished_drip}/logs/drip"
    whole = httpx.get(url).json()
    assert whole["data"] == "first line <b>not bold</b> & more\nsecond line\nlast line\n"
    assert whole["complete"] is True
    assert whole["stream"] == "stdout"
    assert whole["next_offset"] == whole["size"] == len(whole["data"].encode())

    rest = httpx.get(url, params={"offset": len("first line <b>not bold</b> & more\n")}).json()
    assert rest["data"] == "second line\nlast line\n"
    assert httpx.get(url, params={"offset": whole["size"]}).json()["data"] == ""
    part = httpx.get(url, params={"max_bytes": 5}).json()
    assert (part["data"], part["next_offset"]) == ("first", 5)
    err = httpx.get(url, params={"stream": "stderr"}).json()
    assert err["data"] == "a warning on stderr\n"


def test_the_stream_resumes_from_the_last_event_id(server: DevServer, finished_drip: str) -> None:
    url = f"{server.url}/api/runs/{finished_drip}/logs/drip/stream"
    skip = len("first line <b>not bold</b> & more\n")
    with httpx.stream("GET", url, headers={"Last-Event-ID": str(skip)}, timeout=30) as response:
        assert response.status_code == 200
        text = ""
        for line in response.iter_lines():
            text += line + "\n"
            if line.startswith("event: end"):
                break
    assert "second line" in text
    assert "first line" not in text
    assert "id: " in text


def test_unknown_runs_steps_and_streams_are_4xx(server: DevServer, finished_drip: str) -> None:
    base = f"{server.url}/api/runs"
    no_run = httpx.get(f"{base}/nope/logs/drip")
    assert no_run.status_code == 404
    assert no_run.json()["detail"] == "no run with id 'nope'"
    no_step = httpx.get(f"{base}/{finished_drip}/logs/nope")
    assert no_step.status_code == 404
    assert "has no step 'nope' (steps: drip)" in no_step.json()["detail"]
    assert httpx.get(f"{base}/{finished_drip}/logs/nope/stream").status_code == 404
    assert httpx.get(f"{base}/{finished_drip}/logs/drip?stream=both").status_code == 422
    assert httpx.get(f"{base}/{finished_drip}/logs/drip?offset=-1").status_code == 422
    assert httpx.get(f"{base}/{finished_drip}/logs/..%2F..%2Fx").status_code == 404


def test_the_logs_api_is_in_the_openapi_document(server: DevServer) -> None:
    spec = httpx.get(f"{server.url}/api/openapi.json").json()
    route = spec["paths"]["/api/runs/{run_id}/logs/{step_key}"]["get"]
    assert {"200", "404", "422"} <= set(route["responses"])
    assert {p["name"] for p in route["parameters"]} >= {"stream", "offset", "max_bytes"}
    assert "/api/runs/{run_id}/logs/{step_key}/stream" in spec["paths"]

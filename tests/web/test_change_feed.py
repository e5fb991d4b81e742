"""The live feed (`/api/stream`) on a real server over a real SQLite file: it reads nothing while
no page listens or nothing changes, a write from another process wakes it, and it sends what
changed since a client's cursor."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bakehouse.host.deployment import Deployment
from bakehouse.project.workspace import find_workspace
from bakehouse.storage import Instance
from bakehouse.web.app import create_app
from bakehouse.web.streams import ChangeFeed
from tests.support.projects import write_project, write_workspace
from tests.support.waiting import eventually
from tests.web.server import serve
from tests.web.sse import open_stream

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).parents[1] / "storage" / "storage_process.py"

PANTRY = {
    "defs/eggs.py": """\
        import bakehouse as dg


        @dg.asset
        def eggs() -> int:
            return 12
        """
}


@dataclass
class Served:
    """A served deployment, its feed and where its database is."""

    url: str
    feed: ChangeFeed
    instance: Instance
    home: Path


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    write_project(tmp_path / "pantry", "feed_pantry", PANTRY)
    write_workspace(tmp_path, ["pantry"])
    home = tmp_path / ".bakehouse"
    with Instance.for_home(home) as instance:
        deployment = Deployment(find_workspace(tmp_path), instance, heartbeat_interval=0.5)
        deployment.start()
        try:
            app = create_app(deployment)
            with serve(deployment, app) as url:
                yield Served(url, app.state.feed, instance, home)
        finally:
            deployment.stop()


def _materialize_elsewhere(served: Served, run_id: str, key: str) -> None:
    """Another process stores a whole run that materializes `key`, then exits."""
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "materialize",
            served.instance.url,
            str(served.home / "s"),
            run_id,
            key,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_the_feed_runs_only_while_a_page_listens(served: Served) -> None:
    assert not served.feed.running
    with open_stream(served.url + "/api/stream") as stream:
        hello = stream.until("hello")
        assert hello.data == {"cursor": served.feed.cursor, "resumed": False}
        assert served.feed.running
    eventually(lambda: not served.feed.running, message="the feed to stop with its last page")


def test_an_idle_feed_reads_nothing_and_a_write_from_another_process_wakes_it(
    served: Served,
) -> None:
    with open_stream(served.url + "/api/stream") as stream:
        stream.until("hello")
        # Nothing writes: no storage reads, no events (locations are looked at in memory).
        assert [e.name for e in stream.quiet(1.5) if e.name != "locations"] == []
        assert served.feed.rounds == 0
        _materialize_elsewhere(served, "other-process", "eggs")
        runs = stream.until("runs", timeout=10)
        assert [r["run_id"] for r in runs.data] == ["other-process"]
        materialized = stream.until("materializations", timeout=10)
        assert list(materialized.data) == ["eggs"]
        assert materialized.data["eggs"]["run_id"] == "other-process"
        # Its id is the feed's cursor: a storage id the client can resume from.
        assert materialized.id is not None
        assert 0 < int(materialized.id) <= served.instance.get_max_event_storage_id()
        # The feed may read the run while it is still going: its end comes as a change too.
        status = runs.data[0]["status"]
        while status != "SUCCESS":
            status = stream.until("runs", timeout=10).data[0]["status"]
        assert served.feed.rounds >= 1


def test_a_client_resuming_from_its_cursor_gets_what_changed_since(served: Served) -> None:
    cursor = served.instance.get_max_event_storage_id()
    _materialize_elsewhere(served, "while-away", "eggs")
    for url, headers in (
        (f"{served.url}/api/stream?cursor={cursor}", {}),
        # A browser reconnecting sends back the last id it saw.
        (f"{served.url}/api/stream", {"last-event-id": str(cursor)}),
    ):
        with open_stream(url, headers) as stream:
            stream.until("hello")
            assert [r["run_id"] for r in stream.until("runs").data] == ["while-away"]
            assert list(stream.until("materializations").data) == ["eggs"]


def test_a_client_too_far_behind_is_told_to_resync(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bakehouse.web.streams.CATCH_UP_LIMIT", 2)
    _materialize_elsewhere(served, "long-ago", "eggs")
    with open_stream(f"{served.url}/api/stream?cursor=0") as stream:
        stream.until("hello")
        assert stream.next().name == "resync"


@pytest.mark.parametrize("cursor", ["-1", "abc", "1.5"])
def test_a_bad_cursor_is_a_client_error(served: Served, cursor: str) -> None:
    answer = httpx.get(f"{served.url}/api/stream?cursor={cursor}", timeout=30)
    assert answer.status_code == 422
    assert "cursor" in answer.text


def test_a_location_whose_state_changes_is_sent(served: Served, tmp_path: Path) -> None:
    """The feed describes locations again only when one's state object changed (the supervisor
    swaps a state whole): a reload that finds a broken file still reaches a listening page as a
    ``locations`` event, loaded with errors, naming the error."""
    with open_stream(served.url + "/api/stream") as stream:
        stream.until("hello")
        broken = tmp_path / "pantry" / "src" / "feed_pantry" / "defs" / "broken.py"
        broken.write_text("import bakehouse as dg\n\nraise RuntimeError('the flour is damp')\n")
        with httpx.Client(base_url=served.url, timeout=120) as http:
            reloaded = http.post("/api/reload")
        assert reloaded.status_code == 200, reloaded.text
        deadline = time.monotonic() + 60
        while True:
            event = stream.until("locations", timeout=max(0.1, deadline - time.monotonic()))
            (location,) = event.data
            if location["status"] == "LOADED_WITH_ERRORS":
                break
        assert "the flour is damp" in str(location)

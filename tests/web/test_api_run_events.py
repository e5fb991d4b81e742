"""A run's event log a page at a time (``/api/runs/{id}/events``, by cursor, both ways), its
steps for the timeline, and run lists that stay small with large selections: over a real
deployment and SQLite, the log written through storage."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bakehouse.errors import ErrorInfo
from bakehouse.host.deployment import Deployment
from bakehouse.project.workspace import find_workspace
from bakehouse.storage import EventRecord, EventType, Instance, RunRecord, RunStatus
from tests.support.projects import write_project, write_workspace
from tests.web.server import serve

pytestmark = pytest.mark.slow

MILL = {
    "defs/flour.py": """\
        import bakehouse as dg


        @dg.asset
        def flour() -> int:
            return 500
        """
}
STEPS = 90  # 5 events a step, plus the run's own: 452 events, three pages of 200
KEYS = tuple(f"group/asset_{i:04d}" for i in range(2_000))


def _step_events(run_id: str, step: int, t: float) -> list[EventRecord]:
    key = f"step_{step:03d}"
    kinds = [
        (EventType.STEP_START, t),
        (EventType.STEP_INPUT, t + 0.1),
        (EventType.STEP_OUTPUT, t + 0.2),
        (EventType.ASSET_MATERIALIZATION, t + 0.3),
        (EventType.STEP_FAILURE if step == 7 else EventType.STEP_SUCCESS, t + 0.5),
    ]
    error = ErrorInfo.from_exception(RuntimeError("too hot")).to_dict()
    return [
        EventRecord(
            run_id=run_id,
            event_type=kind,
            timestamp=at,
            message=f"{kind.value} {key}",
            step_key=key,
            asset_key=key if kind is EventType.ASSET_MATERIALIZATION else None,
            level="ERROR" if kind is EventType.STEP_FAILURE else "INFO",
            data={"error": error} if kind is EventType.STEP_FAILURE else {},
        )
        for kind, at in kinds
    ]


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[Instance]:
    with Instance.for_home(tmp_path / ".bakehouse") as opened:
        yield opened


@pytest.fixture
def client(tmp_path: Path, instance: Instance) -> Iterator[httpx.Client]:
    write_project(tmp_path / "mill", "events_mill", MILL)
    write_workspace(tmp_path, ["mill"])
    deployment = Deployment(find_workspace(tmp_path), instance, heartbeat_interval=0.5)
    deployment.start()
    try:
        with serve(deployment) as url, httpx.Client(base_url=url, timeout=120) as http:
            yield http
    finally:
        deployment.stop()


@pytest.fixture
def long_run(instance: Instance) -> list[int]:
    """A finished run of STEPS steps; the storage ids of its events in log order."""
    # Not QUEUED: the deployment's run queue would take it up.
    instance.create_run(
        RunRecord(run_id="long-run", status=RunStatus.STARTED, asset_selection=KEYS, created_at=1.0)
    )
    events = [EventRecord(run_id="long-run", event_type=EventType.RUN_START, timestamp=1.0)]
    for step in range(STEPS):
        events += _step_events("long-run", step, 2.0 + step)
    events.append(EventRecord(run_id="long-run", event_type=EventType.RUN_FAILURE, timestamp=99.0))
    return [e.storage_id or 0 for e in instance.store_events(events)]


def _ids(page: dict[str, Any]) -> list[int]:
    return [e["storage_id"] for e in page["events"]]


def test_the_log_pages_forwards_to_its_end_and_on_to_what_is_logged_next(
    client: httpx.Client, instance: Instance, long_run: list[int]
) -> None:
    seen: list[int] = []
    page = client.get("/api/runs/long-run/events").json()
    while True:
        assert len(page["events"]) <= 200
        seen += _ids(page)
        if not page["has_more"]:
            break
        page = client.get("/api/runs/long-run/events", params={"cursor": page["cursor"]}).json()
    assert seen == long_run
    # The last cursor is where the next events will be: nothing yet, then the new one.
    at_end = page["cursor"]
    assert client.get("/api/runs/long-run/events", params={"cursor": at_end}).json()["events"] == []
    new = instance.store_event(
        EventRecord(run_id="long-run", event_type=EventType.LOG, timestamp=100.0)
    )
    later = client.get("/api/runs/long-run/events", params={"cursor": at_end}).json()
    assert _ids(later) == [new.storage_id]


def test_the_log_pages_backwards_from_its_end(client: httpx.Client, long_run: list[int]) -> None:
    page = client.get("/api/runs/long-run/events", params={"from_end": "true", "limit": 150}).json()
    assert _ids(page) == long_run[-150:]
    pages = [_ids(page)]
    while page["cursor"] is not None:
        assert page["has_more"]
        page = client.get(
            "/api/runs/long-run/events", params={"cursor": page["cursor"], "limit": 150}
        ).json()
        pages.insert(0, _ids(page))
    assert not page["has_more"]
    assert [i for ids in pages for i in ids] == long_run


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        base64.urlsafe_b64encode(b"sideways:10").decode(),
        base64.urlsafe_b64encode(b"after:-1").decode(),
        base64.urlsafe_b64encode(b"after:99999999999999999999").decode(),
        "A" * 65,
    ],
)
def test_a_cursor_the_api_did_not_hand_out_is_a_400(
    client: httpx.Client, long_run: list[int], cursor: str
) -> None:
    response = client.get("/api/runs/long-run/events", params={"cursor": cursor})
    assert response.status_code == 400
    assert "cursor" in response.json()["detail"]


def test_an_unknown_run_has_no_events_page_or_steps(client: httpx.Client) -> None:
    assert client.get("/api/runs/nope/events").status_code == 404
    assert client.get("/api/runs/nope/steps").status_code == 404


def test_the_steps_give_each_steps_state_and_times_a_window_at_a_time(
    client: httpx.Client, long_run: list[int]
) -> None:
    page = client.get("/api/runs/long-run/steps", params={"limit": 40}).json()
    steps = page["steps"]
    assert len(steps) == 40
    assert page["total"] == STEPS
    assert steps[0] == {
        "step_key": "step_000",
        "state": "succeeded",
        "start": 2.0,
        "end": 2.5,
        "attempts": 1,
    }
    assert steps[7]["state"] == "failed"
    # The axis spans the whole run, not just the window.
    assert page["first_start"] == 2.0
    assert page["last_end"] == 2.0 + (STEPS - 1) + 0.5
    seen = [s["step_key"] for s in steps]
    while page["cursor"] is not None:
        page = client.get(
            "/api/runs/long-run/steps", params={"limit": 40, "cursor": page["cursor"]}
        ).json()
        seen += [s["step_key"] for s in page["steps"]]
    assert seen == [f"step_{i:03d}" for i in range(STEPS)]
    # The default window is what the timeline draws.
    assert len(client.get("/api/runs/long-run/steps").json()["steps"]) == STEPS
    bad = client.get("/api/runs/long-run/steps", params={"cursor": "nope"})
    assert bad.status_code == 400
    assert "cursor" in bad.json()["detail"]


def test_a_retried_step_is_one_bar_over_its_attempts_and_retrying_between_them(
    client: httpx.Client, instance: Instance
) -> None:
    instance.create_run(RunRecord(run_id="retries", status=RunStatus.STARTED, created_at=1.0))

    def mark(kind: EventType, step: str, t: float) -> EventRecord:
        return EventRecord(run_id="retries", event_type=kind, timestamp=t, step_key=step)

    E = EventType
    instance.store_events(
        [
            EventRecord(run_id="retries", event_type=E.RUN_START, timestamp=1.0),
            # Fails once, then its second attempt succeeds.
            mark(E.STEP_START, "flaky", 2.0),
            mark(E.STEP_UP_FOR_RETRY, "flaky", 3.0),
            mark(E.STEP_RESTARTED, "flaky", 5.0),
            mark(E.STEP_SUCCESS, "flaky", 6.0),
            # Fails every attempt: the last failure is its end.
            mark(E.STEP_START, "doomed", 2.5),
            mark(E.STEP_UP_FOR_RETRY, "doomed", 2.6),
            mark(E.STEP_RESTARTED, "doomed", 4.0),
            mark(E.STEP_UP_FOR_RETRY, "doomed", 4.1),
            mark(E.STEP_RESTARTED, "doomed", 7.0),
            mark(E.STEP_FAILURE, "doomed", 7.5),
            # Waits for its next attempt, then one that is running its second.
            mark(E.STEP_START, "waiting", 8.0),
            mark(E.STEP_UP_FOR_RETRY, "waiting", 8.5),
            mark(E.STEP_START, "again", 8.0),
            mark(E.STEP_UP_FOR_RETRY, "again", 8.2),
            mark(E.STEP_RESTARTED, "again", 9.0),
        ]
    )
    page = client.get("/api/runs/retries/steps").json()
    assert page["total"] == 4  # a restart is no new step
    assert (page["first_start"], page["last_end"]) == (2.0, 7.5)
    got = {s["step_key"]: (s["state"], s["start"], s["end"], s["attempts"]) for s in page["steps"]}
    assert got == {
        "flaky": ("succeeded", 2.0, 6.0, 2),
        "doomed": ("failed", 2.5, 7.5, 3),
        "waiting": ("retrying", 8.0, None, 1),
        "again": ("running", 8.0, None, 2),
    }


def test_a_run_reads_a_page_of_events_at_a_time(client: httpx.Client, long_run: list[int]) -> None:
    detail = client.get("/api/runs/long-run", params={"limit": 100}).json()
    assert _ids(detail) == long_run[:100]
    assert detail["has_more"] is True
    assert len(detail["asset_selection"]) == len(KEYS)
    rest = client.get("/api/runs/long-run", params={"after": long_run[99], "limit": 1000}).json()
    assert _ids(rest) == long_run[100:]
    assert rest["has_more"] is False


def test_run_lists_stay_small_with_large_selections(
    client: httpx.Client, instance: Instance
) -> None:
    for i in range(50):
        instance.create_run(
            RunRecord(
                run_id=f"star-{i:02d}",
                status=RunStatus.SUCCESS,
                asset_selection=KEYS,
                selection_query="*",
                created_at=10.0 + i,
            )
        )
    response = client.get("/api/runs", params={"limit": 50})
    runs = response.json()
    assert len(runs) == 50
    assert runs[0]["asset_count"] == len(KEYS)
    assert runs[0]["asset_selection"] == list(KEYS[:20])
    # 50 runs of 2,000 keys each would be ~1.3 MB with every key.
    assert len(response.content) < 80_000
    page = client.get("/runs")
    assert page.status_code == 200
    assert len(page.content) < 150_000, len(page.content)
    assert "+1997 more" in page.text


def test_the_run_page_shows_the_logs_last_page_and_a_way_to_earlier_ones(
    client: httpx.Client, long_run: list[int]
) -> None:
    page = client.get("/runs/long-run")
    assert page.status_code == 200
    assert page.text.count('data-id="') == 200
    assert f'data-id="{long_run[-1]}"' in page.text
    assert f'data-id="{long_run[0]}"' not in page.text
    assert 'id="log-earlier"' in page.text
    header = client.get("/runs/long-run", params={"part": "header"}).text
    assert "89 ✓" in header  # counted in the database, not from the page of events
    assert "1 failed" in header
    assert "Step step_007 failed" in header

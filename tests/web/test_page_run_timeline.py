"""The run page's step timeline past its first window, in headless chromium over a real
deployment and SQLite: Previous and Next page through a long run's steps a window at a time
(by keyboard too) on the whole run's axis, a retried step says how many attempts it took, and
steps streamed while a run goes on join the last window or wait beyond the one drawn."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from bakehouse.host.deployment import Deployment
from bakehouse.project.workspace import find_workspace
from bakehouse.storage import EventRecord, EventType, Instance, RunRecord, RunStatus
from tests.support.projects import write_project, write_workspace
from tests.web.conftest import playwright_expect as _expect
from tests.web.server import serve

pytestmark = pytest.mark.slow

E = EventType
MILL = {
    "defs/flour.py": """\
        import bakehouse as dg


        @dg.asset
        def flour() -> int:
            return 500
        """
}
LONG = 650  # three windows of the 300 the timeline draws: 300, 300 and 50
RETRIED = "step_310"  # fails once, then succeeds: in the second window


@dataclass
class Served:
    """What the `page` fixture needs of a server (its URL), and the instance behind it."""

    url: str
    instance: Instance


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("timeline")
    write_project(root / "mill", "timeline_mill", MILL)
    write_workspace(root, ["mill"])
    with Instance.for_home(root / ".bakehouse") as instance:
        deployment = Deployment(find_workspace(root), instance, heartbeat_interval=0.5)
        deployment.start()
        try:
            with serve(deployment) as url:
                yield Served(url, instance)
        finally:
            deployment.stop()


def _mark(run_id: str, kind: EventType, step: int, t: float) -> EventRecord:
    return EventRecord(run_id=run_id, event_type=kind, timestamp=t, step_key=f"step_{step:03d}")


def _steps(run_id: str, steps: range, t: float) -> list[EventRecord]:
    """A second a step: each starts and succeeds half a second later, RETRIED after a retry."""
    events = []
    for i in steps:
        at = t + i
        events.append(_mark(run_id, E.STEP_START, i, at))
        if f"step_{i:03d}" == RETRIED:
            events.append(_mark(run_id, E.STEP_UP_FOR_RETRY, i, at + 0.1))
            events.append(_mark(run_id, E.STEP_RESTARTED, i, at + 0.2))
        events.append(_mark(run_id, E.STEP_SUCCESS, i, at + 0.5))
    return events


def _shown(first: int, last: int, total: str) -> str:
    """The timeline's note over window `first`..`last` (an en dash between them)."""
    return f"Steps {first}\u2013{last} of {total}"


def _rows(page: Any) -> list[str]:
    return list(page.locator(".timeline-row").evaluate_all("rows => rows.map(r => r.dataset.step)"))


def _names(steps: range) -> list[str]:
    return [f"step_{i:03d}" for i in steps]


def _left(page: Any, step: str) -> float:
    return float(
        page.locator(f".timeline-row[data-step={step}] .bar").evaluate(
            "b => parseFloat(b.style.left)"
        )
    )


def test_previous_and_next_page_through_a_long_runs_steps(page: Any, server: Served) -> None:
    expect = _expect()
    run_id = "long-timeline"
    server.instance.create_run(RunRecord(run_id=run_id, status=RunStatus.SUCCESS, created_at=1.0))
    server.instance.store_events(
        [
            EventRecord(run_id=run_id, event_type=E.RUN_START, timestamp=1.0),
            *_steps(run_id, range(LONG), 2.0),
        ]
    )
    windows: list[str] = []

    def read(request: Any) -> None:
        if "/steps" in request.url:
            windows.append(request.url)

    page.on("request", read)
    page.goto(f"/runs/{run_id}")
    note = page.locator("#timeline-note")
    previous = page.get_by_role("button", name="\u2039 Previous 300")
    forward = page.locator("#timeline-next")

    expect(note).to_have_text(_shown(1, 300, "650"))
    assert _rows(page) == _names(range(300))
    expect(previous).to_be_disabled()
    expect(forward).to_have_text("Next 300 \u203a")
    assert len(windows) == 1  # the first screen reads one window, as before
    # The whole run's axis: step_000 starts at its left edge, step_299 well before its right.
    assert _left(page, "step_000") < 1
    assert 40 < _left(page, "step_299") < 50

    forward.click()
    expect(note).to_have_text(_shown(301, 600, "650"))
    assert _rows(page) == _names(range(300, 600))
    assert 40 < _left(page, "step_300") < 50  # same axis: step_300 starts where step_299 did
    retried = page.locator(f".timeline-row[data-step={RETRIED}]")
    expect(retried).to_have_attribute("data-state", "ok")
    expect(retried).to_have_attribute("data-attempts", "2")
    expect(retried.locator(".dur")).to_have_text("500 ms · 2 attempts")
    expect(retried.locator(".bar")).to_have_attribute(
        "title", f"{RETRIED}: succeeded in 500 ms, 2 attempts"
    )
    expect(forward).to_have_text("Next 50 \u203a")

    # By keyboard: Enter on Next, then on Previous, which takes the focus when Next runs out.
    forward.focus()
    page.keyboard.press("Enter")
    expect(note).to_have_text(_shown(601, 650, "650"))
    assert _rows(page) == _names(range(600, LONG))
    assert _left(page, "step_649") > 95
    expect(forward).to_be_disabled()
    expect(previous).to_be_focused()
    assert len(windows) == 3
    page.keyboard.press("Enter")
    expect(note).to_have_text(_shown(301, 600, "650"))
    page.keyboard.press("Space")
    expect(note).to_have_text(_shown(1, 300, "650"))
    assert _rows(page) == _names(range(300))
    # Windows already read draw again without reading them again.
    assert len(windows) == 3
    expect(forward).to_be_focused()


def test_a_long_timeline_scrolls_in_its_own_box_under_its_pager_and_axis(
    page: Any, server: Served
) -> None:
    """A window of 300 rows is taller than the screen: it scrolls inside the card, so the
    pager above it and the axis at its top stay in view at its last row, and the next window
    is shown from its first row."""
    expect = _expect()
    run_id = "scrolled-timeline"
    server.instance.create_run(RunRecord(run_id=run_id, status=RunStatus.SUCCESS, created_at=1.0))
    server.instance.store_events(
        [
            EventRecord(run_id=run_id, event_type=E.RUN_START, timestamp=1.0),
            *_steps(run_id, range(LONG), 2.0),
        ]
    )
    page.goto(f"/runs/{run_id}")
    note = page.locator("#timeline-note")
    expect(note).to_have_text(_shown(1, 300, "650"))
    box = page.locator("#timeline")
    height, scrolled = box.evaluate("t => [t.clientHeight, t.scrollHeight]")
    assert height <= 0.7 * 900  # the page fixture's viewport is 900 px high
    assert scrolled > 300 * 26  # every row is there, below the fold of the box

    last = page.locator(".timeline-row[data-step=step_299]")
    last.scroll_into_view_if_needed()
    expect(last).to_be_in_viewport()
    forward = page.locator("#timeline-next")
    expect(forward).to_be_in_viewport()
    axis = page.locator(".timeline-axis")
    expect(axis).to_be_in_viewport()
    # The axis is drawn over the rows scrolled past, not among them.
    axis_box, row_box = axis.bounding_box(), page.locator(".timeline-row").first.bounding_box()
    assert axis_box["y"] <= box.bounding_box()["y"] + 1
    assert row_box["y"] < axis_box["y"]

    forward.click()
    expect(note).to_have_text(_shown(301, 600, "650"))
    assert box.evaluate("t => t.scrollTop") == 0
    expect(page.locator(".timeline-row[data-step=step_300]")).to_be_in_viewport()


def test_steps_streamed_while_a_run_goes_on_join_the_last_window_or_wait_beyond_it(
    page: Any, server: Served
) -> None:
    expect = _expect()
    run_id = "live-timeline"
    t = time.time() - 600
    server.instance.create_run(RunRecord(run_id=run_id, status=RunStatus.STARTED, created_at=t))
    # Its worker is this process, alive: run monitoring leaves the run going.
    worker = EventRecord(run_id=run_id, event_type=E.ENGINE, timestamp=t, data={"pid": os.getpid()})
    server.instance.store_events(
        [
            EventRecord(run_id=run_id, event_type=E.RUN_START, timestamp=t),
            worker,
            *_steps(run_id, range(290), t + 1),
        ]
    )
    page.goto(f"/runs/{run_id}")
    note = page.locator("#timeline-note")
    expect(note).to_have_text("290 steps")
    expect(page.locator("#timeline-pager")).to_be_hidden()

    # Twenty more: ten fill the window, ten wait beyond it; the window drawn stays put.
    server.instance.store_events(_steps(run_id, range(290, 310), t + 1))
    expect(note).to_have_text(_shown(1, 300, "310"))
    assert _rows(page) == _names(range(300))
    forward = page.locator("#timeline-next")
    expect(forward).to_have_text("Next 10 \u203a")

    forward.click()
    expect(note).to_have_text(_shown(301, 310, "310"))
    assert _rows(page) == _names(range(300, 310))
    # The last window grows with the run; a step waiting for its retry is not running.
    waiting = f"step_{310:03d}"
    server.instance.store_events(
        [
            _mark(run_id, E.STEP_START, 310, t + 400),
            _mark(run_id, E.STEP_UP_FOR_RETRY, 310, t + 401),
        ]
    )
    row = page.locator(f".timeline-row[data-step={waiting}]")
    expect(row).to_have_attribute("data-state", "warn")
    expect(note).to_have_text(_shown(301, 311, "311"))
    server.instance.store_events([_mark(run_id, E.STEP_RESTARTED, 310, t + 402)])
    expect(row).to_have_attribute("data-state", "info")
    expect(row).to_have_attribute("data-attempts", "2")
    server.instance.store_events(
        [
            _mark(run_id, E.STEP_SUCCESS, 310, t + 403),
            EventRecord(run_id=run_id, event_type=E.RUN_SUCCESS, timestamp=t + 404),
        ]
    )
    page.wait_for_selector("body[data-run-stream=ended]", state="attached")
    expect(row).to_have_attribute("data-state", "ok")
    expect(row.locator(".dur")).to_contain_text("2 attempts")
    expect(note).to_have_text(_shown(301, 311, "311"))
    page.locator("#timeline-prev").click()
    expect(note).to_have_text(_shown(1, 300, "311"))
    assert _rows(page) == _names(range(300))

"""``/api/runs/{id}/events`` and ``/api/runs/{id}/steps``: a run's event log a page at a time,
by an opaque cursor, and its steps' starts and ends for the timeline, a window at a time."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query

from bakehouse.host.deployment import Deployment
from bakehouse.serdes import replace
from bakehouse.storage.records import CorruptRecord, EventRecord, EventType
from bakehouse.storage.run_log import StepMark
from bakehouse.web.api_runs import run_or_404
from bakehouse.web.deps import deployment
from bakehouse.web.models import CorruptEventOut, EventPageOut, StepMarkOut, StepPageOut
from bakehouse.web.responses import NO_RUN, guarded, problem

router = APIRouter(prefix="/api", tags=["runs"])

# Storage ids are 64-bit; the log's end, for a page that reads backwards from there.
END_OF_LOG = 2**63 - 1
EVENTS_PER_PAGE = 200
_CURSOR = re.compile(r"(after|before):(\d{1,19})")
BAD_CURSOR = problem(
    "A cursor this endpoint did not hand out", "cursor 'x' is not one this API handed out"
)


def encode_cursor(direction: str, storage_id: int) -> str:
    """The opaque cursor of the page `direction` ("after" or "before") of `storage_id`."""
    return base64.urlsafe_b64encode(f"{direction}:{storage_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, int]:
    """(direction, storage id) of a cursor `encode_cursor` made; ValueError for anything else."""
    if len(cursor) > 64:
        raise ValueError("cursor is not one this API handed out (too long)")
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValueError(f"cursor {cursor!r} is not one this API handed out") from None
    match = _CURSOR.fullmatch(text)
    if match is None or int(match[2]) > END_OF_LOG:
        raise ValueError(f"cursor {cursor!r} is not one this API handed out")
    return match[1], int(match[2])


def _shown(events: list[EventRecord | CorruptRecord]) -> list[EventRecord | CorruptEventOut]:
    return [e if isinstance(e, EventRecord) else CorruptEventOut.of(e) for e in events]


def _storage_id(event: EventRecord | CorruptRecord) -> int:
    return (event.storage_id or 0) if isinstance(event, EventRecord) else int(event.key)


def page_of_events(dep: Deployment, run_id: str, cursor: str | None, limit: int) -> EventPageOut:
    """The page of the run's log that `cursor` names (none: the first); ValueError for a cursor
    that is not one."""
    direction, at = decode_cursor(cursor) if cursor else ("after", 0)
    if direction == "after":
        found = dep.instance.get_events(
            run_id, after_storage_id=at, limit=limit + 1, include_corrupt=True
        )
        page = found[:limit]
        last = _storage_id(page[-1]) if page else at
        return EventPageOut(
            events=_shown(page), cursor=encode_cursor("after", last), has_more=len(found) > limit
        )
    found = dep.instance.get_events_before(run_id, at, limit=limit + 1)
    page = found[-limit:] if found else []
    more = len(found) > limit
    return EventPageOut(
        events=_shown(page),
        cursor=encode_cursor("before", _storage_id(page[0])) if more else None,
        has_more=more,
    )


@router.get(
    "/runs/{run_id}/events",
    response_model=EventPageOut,
    responses=guarded({400: BAD_CURSOR, 404: NO_RUN}),
)
def run_events(
    run_id: str,
    cursor: Annotated[
        str | None,
        Query(description="The `cursor` of the page before (none: the log's first page)"),
    ] = None,
    from_end: Annotated[
        bool, Query(description="Without a cursor: the log's last page (then page backwards)")
    ] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = EVENTS_PER_PAGE,
    dep: Deployment = Depends(deployment),
) -> EventPageOut:
    """A page of the run's event log, in log order, and the cursor of the next page: after it
    (forwards, also to read what is logged later) or, from the end, before it. An event whose
    stored row cannot be read is ``{"storage_id", "corrupt": true, "reason"}`` in its place. A
    cursor this API did not hand out is a 400."""
    run_or_404(dep, run_id)
    if cursor is None and from_end:
        cursor = encode_cursor("before", END_OF_LOG)
    try:
        return page_of_events(dep, run_id, cursor, limit)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None


_STATE_OF_END = {
    EventType.STEP_SUCCESS: "succeeded",
    EventType.STEP_FAILURE: "failed",
    EventType.STEP_SKIPPED: "skipped",
}
# A new attempt: STEP_START, or STEP_RESTARTED for a retry (a start after an end counts too).
_ATTEMPTS = (EventType.STEP_START, EventType.STEP_RESTARTED)


def fold_steps(marks: list[StepMark]) -> list[StepMarkOut]:
    """Each step's state and times from its marks in log order, in the order steps appeared.

    One bar per step from its first start to its last end, over all its attempts: between a
    STEP_UP_FOR_RETRY and the next attempt's start it is "retrying", not running (run.js's
    `mark` folds the streamed events the same way)."""
    steps: dict[str, StepMarkOut] = {}
    for mark in marks:
        step = steps.get(mark.step_key) or StepMarkOut(
            step_key=mark.step_key, state="running", start=None, end=None, attempts=0
        )
        if mark.event_type in _ATTEMPTS:
            start = step.start if step.start is not None else mark.timestamp
            step = replace(step, state="running", start=start, end=None, attempts=step.attempts + 1)
        elif mark.event_type is EventType.STEP_UP_FOR_RETRY:
            step = replace(step, state="retrying")
        else:
            # A skipped step never started: its bar is a point at the skip.
            start = step.start if step.start is not None else mark.timestamp
            state = _STATE_OF_END[mark.event_type]
            step = replace(step, state=state, start=start, end=mark.timestamp)
        steps[mark.step_key] = step
    return list(steps.values())


STEPS_PER_PAGE = 300


@router.get(
    "/runs/{run_id}/steps",
    response_model=StepPageOut,
    responses=guarded({400: BAD_CURSOR, 404: NO_RUN}),
)
def run_steps(
    run_id: str,
    cursor: Annotated[
        str | None, Query(description="The `cursor` of the window before (none: the first)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = STEPS_PER_PAGE,
    dep: Deployment = Depends(deployment),
) -> StepPageOut:
    """A window of the run's steps that started or were skipped, in the order they first
    appear in the log: each one's state and start and end times as the log has them now (from
    an index of the log's columns, without decoding its events), with the run's number of
    steps and their span, so a timeline draws the window on the whole run's axis."""
    run_or_404(dep, run_id)
    after = 0
    if cursor is not None:
        try:
            direction, after = decode_cursor(cursor)
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None
        if direction != "after":
            raise HTTPException(400, f"cursor {cursor!r} is not one this API handed out")
    page = dep.instance.get_step_page(run_id, after_storage_id=after, limit=limit)
    return StepPageOut(
        steps=fold_steps(page.marks),
        total=page.total,
        first_start=page.first_start,
        last_end=page.last_end,
        cursor=encode_cursor("after", page.last_id) if page.has_more else None,
    )

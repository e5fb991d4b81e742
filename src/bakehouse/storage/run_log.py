"""Reads one run's event log a part at a time: a page before a cursor, the count of each event
type, the steps' start and end marks (all of them, or a window of steps), the errors.

A 10,000-step run logs some 50,000 events; pages that show such a run read these instead of the
whole log, and none of them but the page of events decodes a body.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bakehouse.storage.event_log import mark_event
from bakehouse.storage.records import CorruptRecord, EventRecord, EventType
from bakehouse.storage.schema import event_logs

# A step's starts, ends and retries: what its timeline bar and state are folded from. Each is
# an (event_type, step_key) range of the index (run_id, event_type, step_key, timestamp), so
# reading them stays an index-only seek per type and key.
STEP_MARKS = (
    EventType.STEP_START,
    EventType.STEP_SUCCESS,
    EventType.STEP_FAILURE,
    EventType.STEP_SKIPPED,
    EventType.STEP_UP_FOR_RETRY,
    EventType.STEP_RESTARTED,
)
ERROR_EVENTS = (EventType.STEP_FAILURE, EventType.RUN_FAILURE)


class StepMark(NamedTuple):
    """A step's start, end or retry as the log has it, without the event's body."""

    step_key: str
    event_type: EventType
    timestamp: float


def select_events_before(
    conn: Connection, run_id: str, before_storage_id: int, *, limit: int
) -> list[EventRecord | CorruptRecord]:
    """The run's `limit` events just before `before_storage_id`, in log order (the page that
    precedes it; the first one's storage id is the cursor of the page before)."""
    stmt = (
        sa.select(event_logs.c.id, event_logs.c.body)
        .where(event_logs.c.run_id == run_id, event_logs.c.id < before_storage_id)
        .order_by(event_logs.c.id.desc())
        .limit(limit)
    )
    return [mark_event(row) for row in reversed(conn.execute(stmt).all())]


def count_events(conn: Connection, run_id: str) -> dict[EventType, int]:
    """How many events of each type the run logged (types it never logged are absent)."""
    stmt = (
        sa.select(event_logs.c.event_type, sa.func.count())
        .where(event_logs.c.run_id == run_id)
        .group_by(event_logs.c.event_type)
    )
    found: dict[EventType, int] = {}
    for event_type, count in conn.execute(stmt):
        try:
            found[EventType(event_type)] = int(count)
        except ValueError:  # a type this version does not know: not counted
            continue
    return found


def select_step_marks(conn: Connection, run_id: str) -> list[StepMark]:
    """Each step's start, success, failure, skip and retry, in log order (columns only, no
    bodies)."""
    stmt = (
        sa.select(event_logs.c.step_key, event_logs.c.event_type, event_logs.c.timestamp)
        .where(
            event_logs.c.run_id == run_id,
            event_logs.c.event_type.in_([t.value for t in STEP_MARKS]),
            event_logs.c.step_key.is_not(None),
        )
        .order_by(event_logs.c.id)
    )
    return [StepMark(key, EventType(kind), ts) for key, kind, ts in conn.execute(stmt)]


STEP_ENDS = (EventType.STEP_SUCCESS, EventType.STEP_FAILURE, EventType.STEP_SKIPPED)
# A step appears in the log where it first starts (or is skipped, never having started).
STEP_FIRSTS = (EventType.STEP_START, EventType.STEP_SKIPPED)


class StepPage(NamedTuple):
    """A window of a run's steps, in the order they appeared in its log, with what a timeline
    drawing only them needs to know of the rest."""

    # Every mark of the window's steps, in log order.
    marks: list[StepMark]
    # The storage id of the window's last step's first mark: the next window starts after it.
    last_id: int
    has_more: bool
    # Steps of the whole run (distinct keys that started or were skipped).
    total: int
    # The run's earliest step start and latest step end (the timeline's axis); None if none.
    first_start: float | None
    last_end: float | None


def select_step_page(
    conn: Connection, run_id: str, *, after_storage_id: int, limit: int
) -> StepPage:
    """The run's steps whose first start or skip comes after `after_storage_id`, `limit` of
    them, with all their marks.

    Every query reads the index (run_id, event_type, step_key, timestamp) or walks the log's
    (run_id, id) index from the cursor: a 10,000-step run's first window reads ~1,000 index
    entries, not its 20,000 marks.
    """
    log = event_logs
    firsts = [t.value for t in STEP_FIRSTS]
    window: dict[str, int] = {}
    # Keys whose first mark came before the cursor: an earlier window listed them.
    earlier: set[str] = set()
    at = after_storage_id
    more = False
    batch = limit + 1
    # A retried step starts again: a later start of a key already in the window is no new
    # step, so read on until the window holds `limit` keys and one more is seen, or the log ends.
    while True:
        stmt = (
            sa.select(log.c.id, log.c.step_key)
            .where(
                log.c.run_id == run_id,
                log.c.id > at,
                log.c.event_type.in_(firsts),
                log.c.step_key.is_not(None),
            )
            .order_by(log.c.id)
            .limit(batch)
        )
        rows = conn.execute(stmt).all()
        fresh = {key for _, key in rows if key not in window and key not in earlier}
        if after_storage_id > 0 and fresh:
            earlier |= _started_before(conn, run_id, fresh, after_storage_id)
        for storage_id, key in rows:
            if key in window or key in earlier:
                continue
            if len(window) == limit:
                more = True
                break
            window[key] = storage_id
        if more or len(rows) < batch:
            break
        at = rows[-1][0]
    found: list[Any] = []
    keys = list(window)
    for start in range(0, len(keys), _KEYS_PER_QUERY):
        chunk = keys[start : start + _KEYS_PER_QUERY]
        # Sorted here, not by the database: ORDER BY id would have SQLite walk the whole log
        # by (run_id, id) rather than seek each (type, key) in the covering index.
        stmt = sa.select(log.c.id, log.c.step_key, log.c.event_type, log.c.timestamp).where(
            log.c.run_id == run_id,
            log.c.event_type.in_([t.value for t in STEP_MARKS]),
            log.c.step_key.in_(chunk),
        )
        found.extend(conn.execute(stmt).all())
    found.sort(key=lambda row: int(row.id))
    marks = [
        StepMark(str(row.step_key), EventType(row.event_type), float(row.timestamp))
        for row in found
    ]
    total = conn.execute(
        sa.select(sa.func.count(sa.distinct(log.c.step_key))).where(
            log.c.run_id == run_id, log.c.event_type.in_(firsts), log.c.step_key.is_not(None)
        )
    ).scalar_one()
    first_start, last_end = conn.execute(
        sa.select(
            sa.func.min(sa.case((log.c.event_type.in_(firsts), log.c.timestamp))),
            sa.func.max(
                sa.case((log.c.event_type.in_([t.value for t in STEP_ENDS]), log.c.timestamp))
            ),
        ).where(
            log.c.run_id == run_id,
            log.c.event_type.in_([t.value for t in STEP_MARKS]),
            log.c.step_key.is_not(None),
        )
    ).one()
    return StepPage(
        marks=marks,
        last_id=max(window.values(), default=after_storage_id),
        has_more=more,
        total=int(total),
        first_start=first_start,
        last_end=last_end,
    )


# Stay far below every backend's limit on bound parameters in one statement.
_KEYS_PER_QUERY = 500


def _started_before(conn: Connection, run_id: str, keys: set[str], storage_id: int) -> set[str]:
    """Those of `keys` that started or were skipped at or before `storage_id`."""
    log = event_logs
    found: set[str] = set()
    ordered = sorted(keys)
    for start in range(0, len(ordered), _KEYS_PER_QUERY):
        stmt = (
            sa.select(log.c.step_key)
            .where(
                log.c.run_id == run_id,
                log.c.event_type.in_([t.value for t in STEP_FIRSTS]),
                log.c.step_key.in_(ordered[start : start + _KEYS_PER_QUERY]),
                log.c.id <= storage_id,
            )
            .distinct()
        )
        found.update(conn.execute(stmt).scalars())
    return found


def select_error_events(
    conn: Connection, run_id: str, *, limit: int, event_types: Sequence[EventType] = ERROR_EVENTS
) -> list[EventRecord | CorruptRecord]:
    """The run's first `limit` failures (`event_types`) and ERROR-level events, in log order."""
    stmt = (
        sa.select(event_logs.c.id, event_logs.c.body)
        .where(
            event_logs.c.run_id == run_id,
            sa.or_(
                event_logs.c.event_type.in_([t.value for t in event_types]),
                event_logs.c.level == "ERROR",
            ),
        )
        .order_by(event_logs.c.id)
        .limit(limit)
    )
    return [mark_event(row) for row in conn.execute(stmt)]

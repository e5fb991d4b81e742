"""Reads one run's event log a part at a time: a page before a cursor, the count of each event
type, the steps' start and end marks, the errors.

A 10,000-step run logs some 50,000 events; pages that show such a run read these instead of the
whole log, and none of them but the page of events decodes a body.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bakehouse.storage.event_log import mark_event
from bakehouse.storage.records import CorruptRecord, EventRecord, EventType
from bakehouse.storage.schema import event_logs

STEP_MARKS = (
    EventType.STEP_START,
    EventType.STEP_SUCCESS,
    EventType.STEP_FAILURE,
    EventType.STEP_SKIPPED,
)
ERROR_EVENTS = (EventType.STEP_FAILURE, EventType.RUN_FAILURE)


class StepMark(NamedTuple):
    """A step's start or end as the log has it, without the event's body."""

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
    """Each step's start, success, failure and skip, in log order (columns only, no bodies)."""
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

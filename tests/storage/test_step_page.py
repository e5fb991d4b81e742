"""A window of a run's steps (`get_step_page`): the steps in the order they first appear, every
mark of each, the run's number of steps and their span, on both backends; and on SQLite, read
from the (run_id, event_type, step_key, timestamp) index."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bakehouse.storage import EventRecord, EventType, Instance, RunRecord, RunStatus, schema
from bakehouse.storage.run_log import STEP_MARKS

E = EventType


def _mark(kind: EventType, step: str, t: float) -> EventRecord:
    return EventRecord(run_id="r", event_type=kind, timestamp=t, step_key=step)


def _store(instance: Instance) -> None:
    instance.create_run(RunRecord(run_id="r", status=RunStatus.STARTED, created_at=1.0))
    instance.create_run(RunRecord(run_id="other", status=RunStatus.STARTED, created_at=1.0))
    events = [EventRecord(run_id="r", event_type=E.RUN_START, timestamp=1.0)]
    for i in range(10):
        step = f"s{i}"
        events.append(_mark(E.STEP_START, step, 10.0 + i))
        events.append(EventRecord(run_id="r", event_type=E.STEP_OUTPUT, timestamp=10.1 + i))
        if i == 2:  # fails, then its retry starts again and succeeds later
            events.append(_mark(E.STEP_FAILURE, step, 10.2 + i))
        else:
            events.append(_mark(E.STEP_SUCCESS, step, 10.5 + i))
    events.append(_mark(E.STEP_START, "s2", 30.0))
    events.append(_mark(E.STEP_SUCCESS, "s2", 31.0))
    events.append(_mark(E.STEP_SKIPPED, "never", 32.0))
    events.append(EventRecord(run_id="other", event_type=E.STEP_START, timestamp=5.0, step_key="x"))
    instance.store_events(events)


def test_windows_of_steps_cover_each_step_once_with_all_its_marks(instance: Instance) -> None:
    _store(instance)
    first = instance.get_step_page("r", limit=4)
    assert first.total == 11
    assert first.has_more
    assert (first.first_start, first.last_end) == (10.0, 32.0)
    # In log order: s2's retry comes after s3.
    keys = [m.step_key for m in first.marks]
    assert keys == ["s0", "s0", "s1", "s1", "s2", "s2", "s3", "s3", "s2", "s2"]
    retried = [(m.event_type, m.timestamp) for m in first.marks if m.step_key == "s2"]
    assert retried == [
        (E.STEP_START, 12.0),
        (E.STEP_FAILURE, 12.2),
        (E.STEP_START, 30.0),
        (E.STEP_SUCCESS, 31.0),
    ]
    seen = list(dict.fromkeys(m.step_key for m in first.marks))
    page = first
    while page.has_more:
        page = instance.get_step_page("r", after_storage_id=page.last_id, limit=4)
        seen += list(dict.fromkeys(m.step_key for m in page.marks))
    # The retry's start is no new step: s2 is listed once, where it first started.
    assert seen == [f"s{i}" for i in range(10)] + ["never"]


def test_a_run_without_steps_has_an_empty_window(instance: Instance) -> None:
    instance.create_run(RunRecord(run_id="empty", status=RunStatus.STARTED, created_at=1.0))
    page = instance.get_step_page("empty")
    assert (page.marks, page.has_more, page.total) == ([], False, 0)
    assert (page.first_start, page.last_end) == (None, None)


def test_a_steps_retries_are_among_its_marks_but_no_new_step(instance: Instance) -> None:
    instance.create_run(RunRecord(run_id="r", status=RunStatus.STARTED, created_at=1.0))
    instance.store_events(
        [
            _mark(E.STEP_START, "flaky", 1.0),
            _mark(E.STEP_UP_FOR_RETRY, "flaky", 2.0),
            _mark(E.STEP_START, "next", 2.5),
            _mark(E.STEP_RESTARTED, "flaky", 3.0),
            _mark(E.STEP_SUCCESS, "flaky", 4.0),
        ]
    )
    first = instance.get_step_page("r", limit=1)
    assert (first.total, first.has_more) == (2, True)
    assert [(m.event_type, m.timestamp) for m in first.marks] == [
        (E.STEP_START, 1.0),
        (E.STEP_UP_FOR_RETRY, 2.0),
        (E.STEP_RESTARTED, 3.0),
        (E.STEP_SUCCESS, 4.0),
    ]
    rest = instance.get_step_page("r", after_storage_id=first.last_id, limit=1)
    assert [m.step_key for m in rest.marks] == ["next"]
    assert not rest.has_more
    assert [m.event_type for m in instance.get_step_marks("r")] == [
        E.STEP_START,
        E.STEP_UP_FOR_RETRY,
        E.STEP_START,
        E.STEP_RESTARTED,
        E.STEP_SUCCESS,
    ]


def test_the_marks_are_read_from_the_index_alone(instance: Instance, engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return  # PostgreSQL's planner picks by statistics; the index's use is checked here
    _store(instance)
    log = schema.event_logs
    stmt = sa.select(log.c.step_key, log.c.event_type, log.c.timestamp).where(
        log.c.run_id == "r",
        log.c.event_type.in_([t.value for t in STEP_MARKS]),
        log.c.step_key.in_(["s1", "s2"]),
    )
    compiled = stmt.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as conn:
        plan = " ".join(str(r[3]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))
    assert "COVERING INDEX ix_event_logs_run_id_event_type_step_key" in plan, plan

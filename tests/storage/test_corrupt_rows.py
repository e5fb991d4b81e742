"""Corrupt rows on both backends: lists skip or mark them, reads by id name them, and the doctor
finds them and moves them into `quarantined_rows` (a table migration 0005 adds)."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bakehouse.errors import CorruptRecordError
from bakehouse.storage import Instance
from bakehouse.storage.records import CorruptRecord, EventRecord, EventType, RunRecord, RunStatus
from tests.storage.conftest import upgrade_to


def _damage(engine: Engine, sql: str, **params: object) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(sql), params)


def test_lists_mark_or_skip_a_corrupt_run_and_reads_name_it(
    instance: Instance, engine: Engine
) -> None:
    for n in range(3):
        instance.create_run(RunRecord(run_id=f"r{n}", created_at=100.0 + n))
    instance.store_event(EventRecord(run_id="r0", event_type=EventType.LOG, timestamp=1.0))
    instance.store_event(EventRecord(run_id="r0", event_type=EventType.LOG, timestamp=2.0))
    _damage(engine, "UPDATE runs SET body = '{not json' WHERE run_id = 'r1'")
    _damage(
        engine,
        "UPDATE event_logs SET body = '{\"run_id\": 3}' "
        "WHERE id = (SELECT min(id) FROM event_logs)",
    )

    assert [r.run_id for r in instance.get_runs()] == ["r2", "r0"]
    marked = instance.get_runs(include_corrupt=True)
    assert isinstance(marked[1], CorruptRecord)
    assert (marked[1].table, marked[1].key, marked[1].created_at) == ("runs", "r1", 101.0)
    with pytest.raises(CorruptRecordError, match=r"runs \(r1\)"):
        instance.get_run("r1")
    with pytest.raises(CorruptRecordError):
        instance.update_run("r1", status=RunStatus.FAILURE)
    assert len(instance.get_events("r0")) == 1
    events = instance.get_events("r0", include_corrupt=True)
    assert isinstance(events[0], CorruptRecord)
    assert events[0].table == "event_logs"

    found = instance.find_corrupt_rows()
    assert [(r.table, r.key) for r in found] == [("runs", "r1"), ("event_logs", events[0].key)]
    moved = instance.move_corrupt_rows_aside()
    assert moved == found
    assert instance.find_corrupt_rows() == []
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT table_name, row_key, row FROM quarantined_rows"))
        kept = {(t, k): json.loads(row) for t, k, row in rows}
    assert kept[("runs", "r1")]["body"] == "{not json"
    listed = instance.get_runs(include_corrupt=True)
    assert [r.run_id for r in listed if isinstance(r, RunRecord)] == ["r2", "r0"]


def test_migration_0005_adds_the_quarantine_table(engine: Engine) -> None:
    upgrade_to(engine, "0004")
    assert "quarantined_rows" not in sa.inspect(engine).get_table_names()
    upgrade_to(engine, "0005")
    assert "quarantined_rows" in sa.inspect(engine).get_table_names()

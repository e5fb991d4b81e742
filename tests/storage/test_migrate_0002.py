"""Revision 0002 (schedules, sensors, run tags) upgrades a database 0001 wrote, data and all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bakehouse.errors import StorageError
from bakehouse.serdes import replace
from bakehouse.storage import (
    EventRecord,
    EventType,
    Instance,
    InstigatorType,
    RunRecord,
    RunStatus,
    TickRecord,
    codec,
    dialect,
    event_log,
    migrate,
    schema,
)
from tests.storage.conftest import upgrade_to

# More than one batch of the migration's copy of run tags (1000 runs).
RUNS = 2100


def _versions(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return migrate.current_revisions(conn)


def _run(i: int) -> RunRecord:
    schedule = "daily" if i % 3 == 0 else "hourly"
    return RunRecord(
        run_id=f"run-{i:05d}",
        status=RunStatus.SUCCESS,
        job_name="bake",
        tags={"bakehouse/schedule": schedule, "n": str(i)},
        created_at=1000.0 + i,
        updated_at=1000.0 + i,
    )


def _write_as_0001(engine: Engine, runs: list[RunRecord], events: list[EventRecord]) -> None:
    """Store runs and events the way bakehouse at revision 0001 did: no run_tags to fill."""
    with engine.connect() as conn:
        conn.execution_options(**dialect.WRITE_OPTIONS)
        with conn.begin():
            conn.execute(sa.insert(schema.runs), [_row_before_0014(run) for run in runs])
            for event in events:
                if event.event_type is not EventType.ASSET_MATERIALIZATION:
                    event_log.store_event(conn, event)
                    continue
                # The asset index of 0001 had no code_version column (revision 0011 adds it).
                stored_id = conn.execute(
                    sa.insert(schema.event_logs), codec.event_to_row(event)
                ).inserted_primary_key
                assert stored_id is not None
                stored = replace(event, storage_id=int(stored_id[0]))
                index_row = codec.materialization_to_row(stored)
                del index_row["code_version"]
                conn.execute(sa.insert(schema.asset_keys), index_row)


def test_a_database_at_0001_with_runs_and_events_upgrades_on_open(
    db_url: str, engine: Engine, tmp_path: Path
) -> None:
    upgrade_to(engine, "0001")
    runs = [_run(i) for i in range(RUNS)]
    events = [
        EventRecord(run_id="run-00003", event_type=EventType.LOG, timestamp=1.0, message="hi"),
        EventRecord(
            run_id="run-00003",
            event_type=EventType.ASSET_MATERIALIZATION,
            timestamp=2.0,
            asset_key="a/b",
            data={"metadata": {"rows": {"type": "int", "value": 3}}},
        ),
    ]
    _write_as_0001(engine, runs, events)
    with engine.connect() as conn:
        assert "run_tags" not in sa.inspect(conn).get_table_names()

    with Instance.open(db_url, storage_dir=tmp_path) as instance:
        assert _versions(engine) == migrate.known_revisions()[-1:]
        # What 0001 stored is all there.
        assert instance.get_run("run-00003") == runs[3]
        assert len(instance.get_runs(limit=None)) == RUNS
        stored = instance.get_events("run-00003")
        assert [(e.event_type, e.message) for e in stored] == [
            (EventType.LOG, "hi"),
            (EventType.ASSET_MATERIALIZATION, ""),
        ]
        latest = instance.get_latest_materializations()["a/b"]
        assert (latest.run_id, latest.storage_id) == ("run-00003", stored[1].storage_id)

        # The tags of the runs 0001 stored were indexed, in every batch.
        daily = instance.get_runs_by_tag("bakehouse/schedule", "daily")
        assert daily == [run for run in reversed(runs) if run.tags["bakehouse/schedule"] == "daily"]
        assert len(daily) == RUNS // 3
        assert instance.get_runs_by_tag("n", str(RUNS - 1)) == [runs[-1]]
        assert instance.get_runs_by_tag("n", "0") == [runs[0]]

        # And the new tables work.
        instance.create_run(RunRecord(run_id="after", tags={"bakehouse/schedule": "daily"}))
        assert instance.get_runs_by_tag("bakehouse/schedule", "daily", limit=1)[0].run_id == "after"
        assert instance.claim_run_key("loc:sensor", "k", "after") is None
        tick = TickRecord(origin="loc:daily", type=InstigatorType.SCHEDULE, tick_at=60.0)
        assert instance.create_tick(tick) is not None
        assert instance.create_tick(tick) is None


def test_a_corrupt_run_body_does_not_stop_the_upgrade(
    db_url: str, engine: Engine, tmp_path: Path
) -> None:
    upgrade_to(engine, "0001")
    _write_as_0001(engine, [_run(0), _run(1)], [])
    with engine.begin() as conn:
        conn.execute(
            sa.update(schema.runs).where(schema.runs.c.run_id == "run-00000").values(body="{oops")
        )

    with Instance.open(db_url, storage_dir=tmp_path) as instance:
        assert _versions(engine) == migrate.known_revisions()[-1:]
        with pytest.raises(StorageError, match="corrupt run record"):
            instance.get_run("run-00000")
        assert instance.get_runs_by_tag("bakehouse/schedule", "hourly") == [_run(1)]


def _row_before_0014(run: RunRecord) -> dict[str, Any]:
    """The `runs` row of `run` as an older revision has it: no `selection_digest` column."""
    row = codec.run_to_row(run)
    del row["selection_digest"]
    return row

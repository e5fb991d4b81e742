"""Revision 0003 (partition status, backfills) upgrades a database 0002 wrote, data and all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bakehouse.storage import (
    BackfillRecord,
    EventRecord,
    EventType,
    Instance,
    PartitionStatus,
    RunRecord,
    codec,
    dialect,
    migrate,
    schema,
)
from tests.storage.conftest import upgrade_to

# More than one batch of the migration's read of the event log (1000 events).
PARTITIONS = 900
ROUNDS = 3


def _materialization(run_id: str, asset: str, partition: str | None, n: int) -> EventRecord:
    return EventRecord(
        run_id=run_id,
        event_type=EventType.ASSET_MATERIALIZATION,
        timestamp=float(n),
        asset_key=asset,
        step_key=asset,
        partition_key=partition,
        data={"metadata": {"round": {"type": "int", "value": n}}},
    )


def _write_as_0002(engine: Engine, runs: list[RunRecord], events: list[EventRecord]) -> None:
    """Store runs and events the way bakehouse at revision 0002 did: no asset_partitions."""
    with engine.connect() as conn:
        conn.execution_options(**dialect.WRITE_OPTIONS)
        with conn.begin():
            conn.execute(sa.insert(schema.runs), [_row_before_0014(run) for run in runs])
            for event in events:
                conn.execute(sa.insert(schema.event_logs), codec.event_to_row(event))


def test_a_database_at_0002_with_partitioned_materializations_upgrades_on_open(
    db_url: str, engine: Engine, tmp_path: Path
) -> None:
    upgrade_to(engine, "0002")
    runs = [RunRecord(run_id=f"r{n}", created_at=float(n)) for n in range(ROUNDS)]
    events = [
        _materialization(f"r{n}", "daily", f"2024-{p:04d}", n)
        for n in range(ROUNDS)
        for p in range(PARTITIONS)
        # The last round re-materializes only the even partitions.
        if n < ROUNDS - 1 or p % 2 == 0
    ]
    events += [_materialization("r0", "plain", None, 0), _materialization("r1", "other", "x", 1)]
    _write_as_0002(engine, runs, events)
    with engine.connect() as conn:
        assert "asset_partitions" not in sa.inspect(conn).get_table_names()

    with Instance.open(db_url, storage_dir=tmp_path) as instance:
        with engine.connect() as conn:
            assert migrate.current_revisions(conn) == migrate.known_revisions()[-1:]
        status = instance.get_partition_status("daily")
        assert status == {f"2024-{p:04d}": PartitionStatus.MATERIALIZED for p in range(PARTITIONS)}
        assert instance.get_partition_status_counts("daily") == {
            PartitionStatus.MATERIALIZED: PARTITIONS
        }
        assert instance.get_partition_status("other") == {"x": PartitionStatus.MATERIALIZED}
        assert instance.get_partition_status("plain") == {}

        # Each partition points at its newest materialization, which the log still holds.
        latest = instance.get_latest_partition_materializations("daily")
        assert latest["2024-0000"].run_id == f"r{ROUNDS - 1}"
        assert latest["2024-0001"].run_id == f"r{ROUNDS - 2}"
        history = instance.get_materialization_history("daily", partition_key="2024-0001")
        assert latest["2024-0001"].storage_id == history[0].storage_id
        assert latest["2024-0001"].metadata == {"round": {"type": "int", "value": ROUNDS - 2}}
        assert [e.run_id for e in history] == [f"r{n}" for n in reversed(range(ROUNDS - 1))]

        # What 0002 stored is still there, and the new tables work.
        assert len(instance.get_runs(limit=None)) == ROUNDS
        instance.store_event(
            EventRecord(
                run_id="r2",
                event_type=EventType.ASSET_MATERIALIZATION_PLANNED,
                timestamp=9.0,
                asset_key="daily",
                step_key="daily",
                partition_key="2024-0001",
            )
        )
        assert instance.get_partition_status("daily")["2024-0001"] is PartitionStatus.IN_PROGRESS
        instance.create_backfill(BackfillRecord(backfill_id="bf", partition_keys=("a", "b")))
        assert instance.claim_backfill_partitions("bf", ["a"], "r9") == {}
        assert instance.claim_backfill_partitions("bf", ["a"], "r10") == {"a": "r9"}


def _row_before_0014(run: RunRecord) -> dict[str, Any]:
    """The `runs` row of `run` as an older revision has it: no `selection_digest` column."""
    row = codec.run_to_row(run)
    del row["selection_digest"]
    return row

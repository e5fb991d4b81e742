"""Partition status of assets, and backfills with the runs their partitions got.

Revision ID: 0003
Revises: 0002
Create Date: 2025-09-01

Creates `asset_partitions`, `backfills` and `backfill_partition_runs`, and fills
`asset_partitions` from the partitioned materializations already in the event log (each
partition MATERIALIZED by its newest one; the log holds no planned markers yet, and which assets
a failed step had is not in it, so nothing is FAILED or IN_PROGRESS after the upgrade). Written
out in full, like 0002, including the digest.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# BIGINT on PostgreSQL; exactly INTEGER on SQLite, where only that makes a rowid alias.
_storage_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_EVENTS_PER_BATCH = 1000
_ROWS_PER_INSERT = 500


def upgrade() -> None:
    """Create the three tables and their indexes, then index the partitions materialized so far."""
    asset_partitions = op.create_table(
        "asset_partitions",
        sa.Column("asset_digest", sa.String(64), nullable=False),
        sa.Column("partition_digest", sa.String(64), nullable=False),
        sa.Column("asset_key", sa.Text, nullable=False),
        sa.Column("partition_key", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("run_id", sa.String(255), nullable=False),
        sa.Column("step_key", sa.Text),
        sa.Column("storage_id", _storage_id, nullable=False),
        sa.Column("timestamp", sa.Double, nullable=False),
        sa.Column("materialization_storage_id", _storage_id),
        sa.PrimaryKeyConstraint("asset_digest", "partition_digest"),
    )
    op.create_index("ix_asset_partitions_run_id", "asset_partitions", ["run_id"])

    op.create_table(
        "backfills",
        sa.Column("backfill_id", sa.String(255), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("updated_at", sa.Double, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_index("ix_backfills_status", "backfills", ["status"])
    op.create_index("ix_backfills_created_at", "backfills", ["created_at"])

    op.create_table(
        "backfill_partition_runs",
        sa.Column("backfill_id", sa.String(255), nullable=False),
        sa.Column("partition_digest", sa.String(64), nullable=False),
        sa.Column("partition_key", sa.Text, nullable=False),
        sa.Column("run_id", sa.String(255), nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("backfill_id", "partition_digest"),
    )

    conn = op.get_bind()
    rows = list(_newest_partition_materializations(conn).values())
    for start in range(0, len(rows), _ROWS_PER_INSERT):
        conn.execute(sa.insert(asset_partitions), rows[start : start + _ROWS_PER_INSERT])


def downgrade() -> None:
    """Drop everything `upgrade` created."""
    op.drop_table("backfill_partition_runs")
    op.drop_index("ix_backfills_created_at", table_name="backfills")
    op.drop_index("ix_backfills_status", table_name="backfills")
    op.drop_table("backfills")
    op.drop_index("ix_asset_partitions_run_id", table_name="asset_partitions")
    op.drop_table("asset_partitions")


def _digest(*parts: str) -> str:
    text = json.dumps(list(parts), separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _newest_partition_materializations(conn: sa.Connection) -> dict[tuple[str, str], Any]:
    """The `asset_partitions` row of each (asset, partition) from its newest materialization."""
    newest: dict[tuple[str, str], Any] = {}
    for event in _partition_materializations(conn):
        newest[(event.asset_key, event.partition_key)] = {  # in id order: the last one wins
            "asset_digest": _digest(event.asset_key),
            "partition_digest": _digest(event.partition_key),
            "asset_key": event.asset_key,
            "partition_key": event.partition_key,
            "status": "MATERIALIZED",
            "run_id": event.run_id,
            "step_key": event.step_key,
            "storage_id": event.id,
            "timestamp": event.timestamp,
            "materialization_storage_id": event.id,
        }
    return newest


def _partition_materializations(conn: sa.Connection) -> Iterator[Any]:
    """The event log's partitioned materializations in id order, a batch at a time."""
    events = sa.table(
        "event_logs",
        sa.column("id"),
        sa.column("run_id"),
        sa.column("event_type"),
        sa.column("timestamp"),
        sa.column("step_key"),
        sa.column("asset_key"),
        sa.column("partition_key"),
    )
    stmt = (
        sa.select(
            events.c.id,
            events.c.run_id,
            events.c.timestamp,
            events.c.step_key,
            events.c.asset_key,
            events.c.partition_key,
        )
        .where(
            events.c.event_type == "ASSET_MATERIALIZATION",
            events.c.asset_key.is_not(None),
            events.c.partition_key.is_not(None),
        )
        .order_by(events.c.id)
        .limit(_EVENTS_PER_BATCH)
    )
    after = 0
    while batch := conn.execute(stmt.where(events.c.id > after)).all():
        yield from batch
        after = batch[-1].id

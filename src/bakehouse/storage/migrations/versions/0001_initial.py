"""Initial schema: runs, the event log and the latest-materialization index of assets.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Written out in full rather than imported from `bakehouse.storage.schema`: a migration describes
the schema as it was at this revision, while schema.py keeps moving.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# BIGINT on PostgreSQL; exactly INTEGER on SQLite, where only that makes a rowid alias.
_storage_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the runs, event_logs and asset_keys tables with their indexes."""
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(255), primary_key=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("job_name", sa.String(255)),
        sa.Column("location_name", sa.String(255)),
        sa.Column("partition_key", sa.Text),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("started_at", sa.Double),
        sa.Column("ended_at", sa.Double),
        sa.Column("updated_at", sa.Double, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_index("ix_runs_status", "runs", ["status"])
    op.create_index("ix_runs_created_at", "runs", ["created_at"])

    op.create_table(
        "event_logs",
        sa.Column("id", _storage_id, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(255), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("timestamp", sa.Double, nullable=False),
        sa.Column("step_key", sa.Text),
        sa.Column("asset_key", sa.Text),
        sa.Column("partition_key", sa.Text),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_event_logs_run_id_id", "event_logs", ["run_id", "id"])
    op.create_index("ix_event_logs_event_type", "event_logs", ["event_type"])
    op.create_index(
        "ix_event_logs_asset_key_event_type_id", "event_logs", ["asset_key", "event_type", "id"]
    )

    op.create_table(
        "asset_keys",
        sa.Column("asset_key", sa.Text, primary_key=True),
        sa.Column("last_materialization_storage_id", _storage_id, nullable=False),
        sa.Column("last_run_id", sa.String(255), nullable=False),
        sa.Column("last_materialization_timestamp", sa.Double, nullable=False),
        sa.Column("partition_key", sa.Text),
        sa.Column("metadata", sa.Text, nullable=False),
    )


def downgrade() -> None:
    """Drop everything `upgrade` created."""
    op.drop_table("asset_keys")
    op.drop_index("ix_event_logs_asset_key_event_type_id", table_name="event_logs")
    op.drop_index("ix_event_logs_event_type", table_name="event_logs")
    op.drop_index("ix_event_logs_run_id_id", table_name="event_logs")
    op.drop_table("event_logs")
    op.drop_index("ix_runs_created_at", table_name="runs")
    op.drop_index("ix_runs_status", table_name="runs")
    op.drop_table("runs")

"""Step workers and their claims: who executes which step of a run on other hosts.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04

Creates `workers` (one row per worker process, its record as JSON, kept fresh by its heartbeat)
and `worker_claims` (one row per attempt of a step a worker took). Nothing to fill: no worker
existed before.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create both tables and the index that lists workers by their last heartbeat."""
    op.create_table(
        "workers",
        sa.Column("worker_id", sa.String(255), primary_key=True),
        sa.Column("heartbeat_at", sa.Double, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_index("ix_workers_heartbeat_at", "workers", ["heartbeat_at"])
    op.create_table(
        "worker_claims",
        sa.Column("run_id", sa.String(255), nullable=False),
        sa.Column("step_key", sa.String(512), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("worker_id", sa.String(255), nullable=False),
        sa.Column("task_id", sa.String(1024), nullable=False),
        sa.Column("claimed_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "step_key", "attempt"),
    )


def downgrade() -> None:
    """Drop both tables."""
    op.drop_table("worker_claims")
    op.drop_index("ix_workers_heartbeat_at", table_name="workers")
    op.drop_table("workers")

"""A run's events counted by type from an index.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04

Adds `ix_event_logs_run_id_event_type` (run_id, event_type): the run page's header counts a
run's steps that succeeded, failed or were skipped with one grouped query that reads the index
alone, instead of each of a 10,000-step run's ~50,000 rows.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the index."""
    op.create_index("ix_event_logs_run_id_event_type", "event_logs", ["run_id", "event_type"])


def downgrade() -> None:
    """Drop it."""
    op.drop_index("ix_event_logs_run_id_event_type", table_name="event_logs")

"""A run's step marks read from an index.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04

Replaces `ix_event_logs_run_id_event_type` (run_id, event_type) by
`ix_event_logs_run_id_event_type_step_key` (run_id, event_type, step_key, timestamp): the counts
of a run's event types still come from the index alone, and so do its steps' marks, so the run
page's timeline reads a window of a 10,000-step run's steps (each step's marks by key, the number
of steps, their span) without reading the log's rows. One index replaces the other: a write adds
no index entry.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the wider index, then drop the one it covers."""
    op.create_index(
        "ix_event_logs_run_id_event_type_step_key",
        "event_logs",
        ["run_id", "event_type", "step_key", "timestamp"],
    )
    op.drop_index("ix_event_logs_run_id_event_type", table_name="event_logs")


def downgrade() -> None:
    """Put the narrower index back."""
    op.create_index("ix_event_logs_run_id_event_type", "event_logs", ["run_id", "event_type"])
    op.drop_index("ix_event_logs_run_id_event_type_step_key", table_name="event_logs")

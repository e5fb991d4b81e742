"""Writes notify a channel on PostgreSQL, so the web feed wakes on changes instead of polling.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04

PostgreSQL only (SQLite readers watch ``PRAGMA data_version`` instead, which needs nothing in
the schema): a function that calls ``pg_notify('bakehouse_changes', <table>)`` and, on each of
``event_logs``, ``runs``, ``instigators``, ``ticks`` and ``backfills``, a statement-level trigger
that runs it after an insert, update or delete. Written out in full, as
`bakehouse.storage.schema.notify_trigger_sql` spells it for a fresh database.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("event_logs", "runs", "instigators", "ticks", "backfills")


def upgrade() -> None:
    """Create the function and the triggers (PostgreSQL only)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE OR REPLACE FUNCTION bakehouse_notify_change() RETURNS trigger AS $$ "
        "BEGIN PERFORM pg_notify('bakehouse_changes', TG_TABLE_NAME); RETURN NULL; END; "
        "$$ LANGUAGE plpgsql"
    )
    for table in _TABLES:
        op.execute(
            f"CREATE TRIGGER bakehouse_notify_{table} AFTER INSERT OR UPDATE OR DELETE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bakehouse_notify_change()"
        )


def downgrade() -> None:
    """Drop the triggers and the function."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in _TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS bakehouse_notify_{table} ON {table}")
    op.execute("DROP FUNCTION IF EXISTS bakehouse_notify_change()")

"""A table for rows that could not be read, moved aside by ``bh doctor --move-aside``.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

Creates `quarantined_rows` (which table a row came from, its key, why it could not be read, the
row's columns as JSON text, when it was moved). Nothing else changes.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# BIGINT on PostgreSQL; exactly INTEGER on SQLite, where only that makes a rowid alias.
_storage_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the table."""
    op.create_table(
        "quarantined_rows",
        sa.Column("id", _storage_id, primary_key=True, autoincrement=True),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("row_key", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("row", sa.Text, nullable=False),
        sa.Column("moved_at", sa.Double, nullable=False),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    """Drop the table (and the rows in it)."""
    op.drop_table("quarantined_rows")

"""The reload history of code locations.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04

Creates `location_reloads`: one row per reload of a location (its name, when it started, whether
it loaded, and the record as JSON: trigger, who, the definitions diff or the error, load time and
memory), indexed to list one location's reloads newest first.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the table and its index."""
    op.create_table(
        "location_reloads",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("location_name", sa.String(255), nullable=False),
        sa.Column("started_at", sa.Double, nullable=False),
        sa.Column("loaded", sa.Boolean, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_location_reloads_location_name_id", "location_reloads", ["location_name", "id"]
    )


def downgrade() -> None:
    """Drop what `upgrade` created."""
    op.drop_index("ix_location_reloads_location_name_id", table_name="location_reloads")
    op.drop_table("location_reloads")

"""Declarative automation: a cursor per asset and the evaluations of its condition.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

Creates `automation_cursors` (one row per asset whose automation condition was evaluated) and
`automation_evaluations` (each evaluation, explained). Nothing to fill: no condition was
evaluated before.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STORAGE_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the two tables and the index that lists an asset's evaluations."""
    op.create_table(
        "automation_cursors",
        sa.Column("asset_digest", sa.String(64), primary_key=True),
        sa.Column("asset_key", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Double, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_table(
        "automation_evaluations",
        sa.Column("id", _STORAGE_ID, primary_key=True, autoincrement=True),
        sa.Column("asset_digest", sa.String(64), nullable=False),
        sa.Column("asset_key", sa.Text, nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("evaluated_at", sa.Double, nullable=False),
        sa.Column("num_requested", sa.Integer, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_automation_evaluations_asset_digest_id",
        "automation_evaluations",
        ["asset_digest", "id"],
    )


def downgrade() -> None:
    """Drop both tables (automation starts over: every condition's next evaluation is its
    first)."""
    op.drop_index("ix_automation_evaluations_asset_digest_id", table_name="automation_evaluations")
    op.drop_table("automation_evaluations")
    op.drop_table("automation_cursors")

"""Instance secrets: keys that every server process of one deployment must share.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

Creates `instance_secrets`: one row per named secret (the form-token signing key of the web
servers first), made once by whichever process needs it first. Nothing to fill: a secret is
made on first use.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the table."""
    op.create_table(
        "instance_secrets",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(255), nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
    )


def downgrade() -> None:
    """Drop the table (form tokens of open pages stop working; a new key is made on use)."""
    op.drop_table("instance_secrets")

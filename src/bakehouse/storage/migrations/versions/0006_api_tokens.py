"""API tokens: who may use the API and the UI of a deployment.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

Creates `api_tokens`: one row per named token with the SHA-256 of the token (never the token),
whether it may only read, and when it was made. Nothing to fill: no token existed before.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the table and the index that finds a token by its digest."""
    op.create_table(
        "api_tokens",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("token_digest", sa.String(64), nullable=False),
        sa.Column("read_only", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
    )
    op.create_index("ux_api_tokens_digest", "api_tokens", ["token_digest"], unique=True)


def downgrade() -> None:
    """Drop the table (every token stops working)."""
    op.drop_index("ux_api_tokens_digest", table_name="api_tokens")
    op.drop_table("api_tokens")

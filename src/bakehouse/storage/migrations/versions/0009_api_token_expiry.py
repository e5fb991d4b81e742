"""API tokens: an optional expiry, and when each was last used.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

Adds `expires_at` (null: never expires) and `last_used_at` (null: never used) to `api_tokens`.
Tokens made before keep working as they did: they never expire, and have not been used yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _create(columns: list[sa.Column[Any]]) -> None:
    op.create_table(
        "api_tokens",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("token_digest", sa.String(64), nullable=False),
        sa.Column("read_only", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        *columns,
    )
    op.create_index("ux_api_tokens_digest", "api_tokens", ["token_digest"], unique=True)


def _rebuild(columns: list[sa.Column[Any]]) -> None:
    """Make `api_tokens` again with `columns` after the first four, keeping every token.

    SQLite keeps a table's definition as text: made anew, it is spelt as a new database's is
    (an added column, or a batch copy, would be spelt differently).
    """
    op.drop_index("ux_api_tokens_digest", table_name="api_tokens")
    op.rename_table("api_tokens", "api_tokens_before_0009")
    _create(columns)
    op.execute(
        "INSERT INTO api_tokens (name, token_digest, read_only, created_at) "
        "SELECT name, token_digest, read_only, created_at FROM api_tokens_before_0009"
    )
    op.drop_table("api_tokens_before_0009")


def _new_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("expires_at", sa.Double, nullable=True),
        sa.Column("last_used_at", sa.Double, nullable=True),
    ]


def upgrade() -> None:
    """Add the two nullable columns (null for every token made before)."""
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(_new_columns())
        return
    # PostgreSQL describes an added column as it does a created one.
    for column in _new_columns():
        op.add_column("api_tokens", column)


def downgrade() -> None:
    """Drop them (every token then never expires)."""
    if op.get_bind().dialect.name == "sqlite":
        _rebuild([])
        return
    for name in ("last_used_at", "expires_at"):
        op.drop_column("api_tokens", name)

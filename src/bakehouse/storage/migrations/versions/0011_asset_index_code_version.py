"""The asset index keeps the code version of each asset's latest materialization.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04

Adds `code_version` (null: none recorded) to `asset_keys`, so the UI tells an asset whose
definition's code version differs from the one it was materialized with ("code version
changed") from the index alone. Rows indexed before keep null: materializations stored before
did not record a code version.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEPT = (
    "asset_key, last_materialization_storage_id, last_run_id, last_materialization_timestamp, "
    "partition_key, metadata"
)


def _create(columns: list[sa.Column[Any]]) -> None:
    op.create_table(
        "asset_keys",
        sa.Column("asset_key", sa.Text, primary_key=True),
        sa.Column(
            "last_materialization_storage_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("last_run_id", sa.String(255), nullable=False),
        sa.Column("last_materialization_timestamp", sa.Double, nullable=False),
        sa.Column("partition_key", sa.Text),
        sa.Column("metadata", sa.Text, nullable=False),
        *columns,
    )


def _rebuild(columns: list[sa.Column[Any]]) -> None:
    """Make `asset_keys` again with `columns` after the first six, keeping every row.

    SQLite keeps a table's definition as text: made anew, it is spelt as a new database's is.
    """
    op.rename_table("asset_keys", "asset_keys_before_0011")
    _create(columns)
    op.execute(f"INSERT INTO asset_keys ({_KEPT}) SELECT {_KEPT} FROM asset_keys_before_0011")
    op.drop_table("asset_keys_before_0011")


def upgrade() -> None:
    """Add the nullable column (null for what was indexed before)."""
    column = sa.Column("code_version", sa.Text, nullable=True)
    if op.get_bind().dialect.name == "sqlite":
        _rebuild([column])
        return
    # PostgreSQL describes an added column as it does a created one.
    op.add_column("asset_keys", column)


def downgrade() -> None:
    """Drop it."""
    if op.get_bind().dialect.name == "sqlite":
        _rebuild([])
        return
    op.drop_column("asset_keys", "code_version")

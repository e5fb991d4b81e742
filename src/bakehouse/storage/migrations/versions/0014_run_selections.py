"""Run selections by reference, and short run ids found through an index.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04

Creates `run_selections` (the keys of a large run selection, once per distinct selection, by
the digest of the selection) and the column `runs.selection_digest` that points there, so a run
row no longer carries 20,000 keys. Runs stored before keep their keys in their bodies and a null
digest; they decode as they are, so nothing is rewritten. On PostgreSQL it also adds the
pattern-ops index that lets `run_id LIKE 'prefix%'` (short run ids) use a btree whatever the
database's collation (on SQLite the same index is a plain one on run_id).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_RUN_COLUMNS = (
    "run_id, status, job_name, location_name, partition_key, created_at, started_at, ended_at, "
    "updated_at, body"
)
_RUN_INDEXES = {
    "ix_runs_status": ["status"],
    "ix_runs_created_at": ["created_at"],
    "ix_runs_job_name_created_at": ["job_name", "created_at"],
}


def _create_runs(columns: list[sa.Column[Any]]) -> None:
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(255), primary_key=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("job_name", sa.String(255)),
        sa.Column("location_name", sa.String(255)),
        sa.Column("partition_key", sa.Text),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("started_at", sa.Double),
        sa.Column("ended_at", sa.Double),
        sa.Column("updated_at", sa.Double, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        *columns,
    )
    for name, indexed in _RUN_INDEXES.items():
        op.create_index(name, "runs", indexed)


def _rebuild_runs(columns: list[sa.Column[Any]]) -> None:
    """Make `runs` again with `columns` after `body`, keeping every run.

    SQLite keeps a table's definition as text: made anew, it is spelt as a new database's is
    (an added column would be spelt differently). PostgreSQL adds a column in place.
    """
    for name in _RUN_INDEXES:
        op.drop_index(name, table_name="runs")
    op.rename_table("runs", "runs_before_0014")
    _create_runs(columns)
    op.execute(f"INSERT INTO runs ({_RUN_COLUMNS}) SELECT {_RUN_COLUMNS} FROM runs_before_0014")
    op.drop_table("runs_before_0014")


def upgrade() -> None:
    """Create the table, the column and the prefix index."""
    op.create_table(
        "run_selections",
        sa.Column("selection_digest", sa.String(64), nullable=False),
        sa.Column("asset_count", sa.Integer, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("selection_digest"),
    )
    column = sa.Column("selection_digest", sa.String(64), nullable=True)
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_runs([column])
    else:
        op.add_column("runs", column)
    op.create_index(
        "ix_runs_run_id_pattern",
        "runs",
        ["run_id"],
        postgresql_ops={"run_id": "varchar_pattern_ops"},
    )


def downgrade() -> None:
    """Put each referenced selection back into its runs' bodies, then drop what `upgrade`
    created."""
    conn = op.get_bind()
    runs = sa.table("runs", sa.column("run_id"), sa.column("body"), sa.column("selection_digest"))
    selections = sa.table("run_selections", sa.column("selection_digest"), sa.column("body"))
    referenced = sa.select(runs.c.run_id, runs.c.body, selections.c.body.label("keys")).join(
        selections, selections.c.selection_digest == runs.c.selection_digest
    )
    for row in conn.execute(referenced).all():
        body = {**json.loads(row.body), **json.loads(row.keys)}
        conn.execute(
            sa.update(runs)
            .where(runs.c.run_id == row.run_id)
            .values(body=json.dumps(body, separators=(",", ":")))
        )
    op.drop_index("ix_runs_run_id_pattern", table_name="runs")
    if conn.dialect.name == "sqlite":
        _rebuild_runs([])
    else:
        op.drop_column("runs", "selection_digest")
    op.drop_table("run_selections")

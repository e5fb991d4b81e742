"""Runs found by asset and by job: the Runs list's filters.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

Creates `run_assets` (one row per asset key a run selects, by the digest of the key, with the
run's created_at so an index lists a key's runs newest first) and fills it from the bodies of the
runs already stored; adds an index on `runs` (job_name, created_at). Written out in full, with the
digest of `bakehouse.storage.codec.digest`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RUNS_PER_BATCH = 1000


def upgrade() -> None:
    """Create the table and the indexes, then index the assets of existing runs."""
    run_assets = op.create_table(
        "run_assets",
        sa.Column("run_id", sa.String(255), nullable=False),
        sa.Column("asset_key", sa.Text, nullable=False),
        sa.Column("asset_digest", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "asset_digest"),
    )
    op.create_index(
        "ix_run_assets_asset_digest_created_at",
        "run_assets",
        ["asset_digest", "created_at", "run_id"],
    )
    op.create_index("ix_runs_job_name_created_at", "runs", ["job_name", "created_at"])
    conn = op.get_bind()
    for rows in _asset_rows_of_existing_runs(conn):
        if rows:
            conn.execute(sa.insert(run_assets), rows)


def downgrade() -> None:
    """Drop what `upgrade` created."""
    op.drop_index("ix_runs_job_name_created_at", table_name="runs")
    op.drop_index("ix_run_assets_asset_digest_created_at", table_name="run_assets")
    op.drop_table("run_assets")


def _digest(*parts: str) -> str:
    text = json.dumps(list(parts), separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _asset_rows_of_existing_runs(conn: sa.Connection) -> Iterator[list[dict[str, Any]]]:
    """The `run_assets` rows of the stored runs, a batch of runs at a time (paged by run_id)."""
    runs = sa.table("runs", sa.column("run_id"), sa.column("created_at"), sa.column("body"))
    after = None
    while True:
        stmt = sa.select(runs.c.run_id, runs.c.created_at, runs.c.body).order_by(runs.c.run_id)
        if after is not None:
            stmt = stmt.where(runs.c.run_id > after)
        batch = conn.execute(stmt.limit(_RUNS_PER_BATCH)).all()
        if not batch:
            return
        after = batch[-1].run_id
        yield [row for run in batch for row in _asset_rows(run)]


def _asset_rows(run: Any) -> list[dict[str, Any]]:
    try:
        keys = json.loads(run.body).get("asset_selection")
    except (AttributeError, TypeError, ValueError):
        return []  # a corrupt body: reading the run raises anyway, the upgrade goes on
    if not isinstance(keys, list):
        return []
    return [
        {
            "run_id": run.run_id,
            "asset_key": key,
            "asset_digest": _digest(key),
            "created_at": run.created_at,
        }
        for key in dict.fromkeys(str(k) for k in keys)
    ]

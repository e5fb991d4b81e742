"""The asset keys of a selection kept by reference, once per selection instead of once per run.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04

Creates `run_selection_assets` (the asset keys of each `run_selections` row, by the digest of the
key) and fills it from the selections already stored; deletes the `run_assets` rows of runs whose
selection is kept by reference (50 runs of `*` over 20,000 assets were a million rows, now
20,000); adds the index `runs` (selection_digest, created_at) through which an asset's runs are
found from the selections that hold it. Runs whose body holds their keys keep their `run_assets`
rows. Written out in full, with the digest of `bakehouse.storage.codec.digest`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SELECTIONS_PER_BATCH = 20
_ROWS_PER_INSERT = 10_000

_runs = sa.table(
    "runs", sa.column("run_id"), sa.column("created_at"), sa.column("selection_digest")
)
_selections = sa.table("run_selections", sa.column("selection_digest"), sa.column("body"))
_run_assets = sa.table(
    "run_assets",
    sa.column("run_id"),
    sa.column("asset_key"),
    sa.column("asset_digest"),
    sa.column("created_at"),
)


def upgrade() -> None:
    """Create the table and the index, fill the table, drop the per-run rows it replaces."""
    selection_assets = op.create_table(
        "run_selection_assets",
        sa.Column("asset_digest", sa.String(64), nullable=False),
        sa.Column("selection_digest", sa.String(64), nullable=False),
        sa.Column("asset_key", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("asset_digest", "selection_digest"),
    )
    op.create_index(
        "ix_runs_selection_digest_created_at", "runs", ["selection_digest", "created_at"]
    )
    conn = op.get_bind()
    for digest, keys in _stored_selections(conn):
        rows = [
            {"asset_digest": _digest(key), "selection_digest": digest, "asset_key": key}
            for key in keys
        ]
        for start in range(0, len(rows), _ROWS_PER_INSERT):
            conn.execute(sa.insert(selection_assets), rows[start : start + _ROWS_PER_INSERT])
    by_reference = sa.select(_runs.c.run_id).where(_runs.c.selection_digest.is_not(None))
    conn.execute(sa.delete(_run_assets).where(_run_assets.c.run_id.in_(by_reference)))


def downgrade() -> None:
    """Give the runs of selections kept by reference their `run_assets` rows again, then drop
    what `upgrade` created."""
    conn = op.get_bind()
    keys_of = dict(_stored_selections(conn))
    referring = sa.select(_runs.c.run_id, _runs.c.created_at, _runs.c.selection_digest).where(
        _runs.c.selection_digest.is_not(None)
    )
    rows: list[dict[str, Any]] = []
    for run in conn.execute(referring).all():
        rows.extend(
            {
                "run_id": run.run_id,
                "asset_key": key,
                "asset_digest": _digest(key),
                "created_at": run.created_at,
            }
            for key in keys_of.get(run.selection_digest, [])
        )
        if len(rows) >= _ROWS_PER_INSERT:
            conn.execute(sa.insert(_run_assets), rows)
            rows = []
    if rows:
        conn.execute(sa.insert(_run_assets), rows)
    op.drop_index("ix_runs_selection_digest_created_at", table_name="runs")
    op.drop_table("run_selection_assets")


def _digest(*parts: str) -> str:
    text = json.dumps(list(parts), separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _stored_selections(conn: sa.Connection) -> Iterator[tuple[str, list[str]]]:
    """Each stored selection's digest and distinct asset keys, a batch of rows at a time."""
    after = None
    while True:
        stmt = sa.select(_selections.c.selection_digest, _selections.c.body).order_by(
            _selections.c.selection_digest
        )
        if after is not None:
            stmt = stmt.where(_selections.c.selection_digest > after)
        batch = conn.execute(stmt.limit(_SELECTIONS_PER_BATCH)).all()
        if not batch:
            return
        after = batch[-1].selection_digest
        for row in batch:
            yield row.selection_digest, _keys(row.body)


def _keys(body: str) -> list[str]:
    try:
        keys = json.loads(body).get("asset_selection")
    except (AttributeError, TypeError, ValueError):
        return []  # a corrupt selection: its runs read as corrupt anyway, the upgrade goes on
    if not isinstance(keys, list):
        return []
    return list(dict.fromkeys(str(k) for k in keys))

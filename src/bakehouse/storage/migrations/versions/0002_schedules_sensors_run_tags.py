"""Schedules and sensors: their state, ticks and run keys; and run tags indexed for lookups.

Revision ID: 0002
Revises: 0001
Create Date: 2025-06-01

Creates `instigators`, `ticks`, `run_keys` and `run_tags`, and fills `run_tags` from the tags in
the bodies of the runs already stored. Written out in full, like 0001, including the digest
(`bakehouse.storage.codec.digest` must keep computing the same).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# BIGINT on PostgreSQL; exactly INTEGER on SQLite, where only that makes a rowid alias.
_storage_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_RUNS_PER_BATCH = 1000


def upgrade() -> None:
    """Create the four tables with their indexes, then index the tags of existing runs."""
    run_tags = op.create_table(
        "run_tags",
        sa.Column("run_id", sa.String(255), nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("tag_digest", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "tag_digest"),
    )
    op.create_index(
        "ix_run_tags_tag_digest_created_at", "run_tags", ["tag_digest", "created_at", "run_id"]
    )

    op.create_table(
        "instigators",
        sa.Column("origin", sa.Text, primary_key=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("updated_at", sa.Double, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_index("ix_instigators_type", "instigators", ["type"])

    op.create_table(
        "ticks",
        sa.Column("id", _storage_id, primary_key=True, autoincrement=True),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("tick_at", sa.Double, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("updated_at", sa.Double, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ux_ticks_schedule_origin_tick_at",
        "ticks",
        ["origin", "tick_at"],
        unique=True,
        sqlite_where=sa.text("type = 'SCHEDULE'"),
        postgresql_where=sa.text("type = 'SCHEDULE'"),
    )
    op.create_index("ix_ticks_origin_tick_at_id", "ticks", ["origin", "tick_at", "id"])
    op.create_index("ix_ticks_origin_status_tick_at", "ticks", ["origin", "status", "tick_at"])

    op.create_table(
        "run_keys",
        sa.Column("key_digest", sa.String(64), primary_key=True),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("run_key", sa.Text, nullable=False),
        sa.Column("run_id", sa.String(255), nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
    )

    conn = op.get_bind()
    for rows in _tag_rows_of_existing_runs(conn):
        if rows:
            conn.execute(sa.insert(run_tags), rows)


def downgrade() -> None:
    """Drop everything `upgrade` created."""
    op.drop_table("run_keys")
    op.drop_index("ix_ticks_origin_status_tick_at", table_name="ticks")
    op.drop_index("ix_ticks_origin_tick_at_id", table_name="ticks")
    op.drop_index("ux_ticks_schedule_origin_tick_at", table_name="ticks")
    op.drop_table("ticks")
    op.drop_index("ix_instigators_type", table_name="instigators")
    op.drop_table("instigators")
    op.drop_index("ix_run_tags_tag_digest_created_at", table_name="run_tags")
    op.drop_table("run_tags")


def _digest(*parts: str) -> str:
    text = json.dumps(list(parts), separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _tag_rows_of_existing_runs(conn: sa.Connection) -> Iterator[list[dict[str, Any]]]:
    """The `run_tags` rows of the stored runs, a batch of runs at a time (paged by run_id)."""
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
        yield [row for run in batch for row in _tag_rows(run)]


def _tag_rows(run: Any) -> list[dict[str, Any]]:
    try:
        tags = json.loads(run.body).get("tags")
    except (AttributeError, TypeError, ValueError):
        return []  # a corrupt body: reading the run raises anyway, the upgrade goes on
    if not isinstance(tags, dict):
        return []
    return [
        {
            "run_id": run.run_id,
            "key": key,
            "value": value,
            "tag_digest": _digest(key, value),
            "created_at": run.created_at,
        }
        for key, value in dict.fromkeys((str(k), str(v)) for k, v in tags.items())
    ]

"""The keys of dynamic partitions definitions, moved from a JSON file into the database.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

Creates `dynamic_partitions` and fills it from ``_dynamic_partitions.json`` in the instance's
storage folder, where revisions up to 0003 kept the keys (``{definition name: [keys in the order
added]}``), keeping each definition's order. The file is left where it is and no longer read. The
storage folder is the one `migrate.upgrade` is given; run from the ``alembic`` command line on a
SQLite file it is the ``storage`` folder beside the file, on PostgreSQL there is none and nothing
is imported. A file that is not a JSON object of lists stops the upgrade (nothing changes) with
an error naming it, rather than losing its keys. Written out in full, like 0003, digest included.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import op

from bakehouse.errors import StorageError

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# BIGINT on PostgreSQL; exactly INTEGER on SQLite, where only that makes a rowid alias.
_storage_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

FILE_NAME = "_dynamic_partitions.json"
_ROWS_PER_INSERT = 500


def upgrade() -> None:
    """Create the table and its indexes, then import the keys of the old file if there is one."""
    table = op.create_table(
        "dynamic_partitions",
        sa.Column("id", _storage_id, primary_key=True, autoincrement=True),
        sa.Column("partitions_def_digest", sa.String(64), nullable=False),
        sa.Column("partition_digest", sa.String(64), nullable=False),
        sa.Column("partitions_def_name", sa.Text, nullable=False),
        sa.Column("partition_key", sa.Text, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ux_dynamic_partitions_def_partition",
        "dynamic_partitions",
        ["partitions_def_digest", "partition_digest"],
        unique=True,
    )
    op.create_index(
        "ix_dynamic_partitions_def_id", "dynamic_partitions", ["partitions_def_digest", "id"]
    )

    conn = op.get_bind()
    folder = _storage_dir(conn)
    if folder is None:
        return
    rows = _rows(folder / FILE_NAME)
    # Rows are inserted in the file's order, so ids keep each definition's order of adding.
    for start in range(0, len(rows), _ROWS_PER_INSERT):
        conn.execute(sa.insert(table), rows[start : start + _ROWS_PER_INSERT])


def downgrade() -> None:
    """Drop the table (the keys stay in the file 0004 imported them from, if it is still there)."""
    op.drop_index("ix_dynamic_partitions_def_id", table_name="dynamic_partitions")
    op.drop_index("ux_dynamic_partitions_def_partition", table_name="dynamic_partitions")
    op.drop_table("dynamic_partitions")


def _digest(*parts: str) -> str:
    text = json.dumps(list(parts), separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _storage_dir(conn: sa.Connection) -> Path | None:
    """The instance's storage folder: as bakehouse passed it, else beside a SQLite file."""
    config = op.get_context().config
    given = config.attributes.get("storage_dir") if config is not None else None
    if given is not None:
        return Path(given)
    url = conn.engine.url
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).absolute().parent / "storage"
    return None


def _rows(path: Path) -> list[dict[str, Any]]:
    """The rows of the keys in `path`, definition by definition, each in its order; [] if the
    file does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StorageError(
            f"{path} (dynamic partition keys to import into the database) is not valid JSON: "
            f"{exc}; repair it, or move it away to drop its keys, then open storage again"
        ) from None
    bad = not isinstance(data, dict) or any(not isinstance(v, list) for v in data.values())
    if bad:
        raise StorageError(
            f"{path} (dynamic partition keys to import into the database) does not hold a JSON "
            "object of lists of keys; repair it, or move it away to drop its keys, then open "
            "storage again"
        )
    now = time.time()
    rows = []
    for name, keys in data.items():
        for key in dict.fromkeys(str(k) for k in keys):
            rows.append(
                {
                    "partitions_def_digest": _digest(str(name)),
                    "partition_digest": _digest(key),
                    "partitions_def_name": str(name),
                    "partition_key": key,
                    "created_at": now,
                }
            )
    return rows

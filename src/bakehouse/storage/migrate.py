"""Brings a database's schema to the head revision, importing Alembic only when a migration runs.

Opening storage happens in every process (CLI, worker, webserver), so the common cases stay
cheap: a database already at head costs one query, and a fresh one is created straight from
`schema.metadata` and stamped at head. Only a database at an older revision goes through
``alembic upgrade head``. Revision ids are the numeric prefixes of the files in
``migrations/versions`` (``0001_initial.py`` is ``0001``), so the head is known without Alembic.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bakehouse.errors import StorageError
from bakehouse.storage import dialect
from bakehouse.storage.schema import metadata

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

VERSION_TABLE = "alembic_version"

# The table Alembic keeps its revision in, declared as Alembic declares it, so that stamping a
# fresh database needs no Alembic import. Kept out of `schema.metadata`: it is not ours.
_version_metadata = sa.MetaData()
alembic_version = sa.Table(
    VERSION_TABLE,
    _version_metadata,
    sa.Column("version_num", sa.String(32), nullable=False),
    sa.PrimaryKeyConstraint("version_num", name=f"{VERSION_TABLE}_pkc"),
)


def known_revisions(script_location: Path | None = None) -> list[str]:
    """The revision ids of the migration scripts, oldest first."""
    versions = (script_location or MIGRATIONS_DIR) / "versions"
    return sorted(path.name.split("_", 1)[0] for path in versions.glob("[0-9]*.py"))


def current_revisions(conn: Connection) -> list[str]:
    """The revisions the database is stamped with; empty for a database Alembic never touched."""
    if not sa.inspect(conn).has_table(VERSION_TABLE):
        return []
    return list(conn.execute(sa.select(alembic_version.c.version_num)).scalars())


def ensure_schema(
    engine: Engine, *, script_location: Path | None = None, storage_dir: Path | None = None
) -> None:
    """Create, upgrade or just check the schema so that it is at head; raises StorageError.

    `storage_dir` is the instance's storage folder, where migrations may find data that older
    versions kept in files (0004: the dynamic partition keys).
    """
    location = script_location or MIGRATIONS_DIR
    revisions = known_revisions(location)
    with engine.connect() as conn:
        current = current_revisions(conn)
    if _is_at_head(current, revisions):
        return
    # Another process may be setting up the same database right now: decide and act under an
    # exclusive lock, looking again at what is there once we hold it.
    with engine.connect() as conn:
        conn.execution_options(**dialect.WRITE_OPTIONS)
        with conn.begin():
            dialect.lock_for_schema_setup(conn)
            current = current_revisions(conn)
            if _is_at_head(current, revisions):
                return
            if not current:
                _create_fresh(conn, revisions[-1])
            elif len(current) > 1:
                raise StorageError(f"database is stamped with several revisions {current}")
            else:
                upgrade(conn, location, storage_dir=storage_dir)


def _is_at_head(current: list[str], revisions: list[str]) -> bool:
    unknown = [revision for revision in current if revision not in revisions]
    if unknown:
        raise StorageError(
            f"the database is at schema revision {', '.join(unknown)}, which this bakehouse does "
            f"not know (it knows up to {revisions[-1]}): the database was written by a newer "
            "bakehouse. Upgrade bakehouse to use it."
        )
    return current == [revisions[-1]]


def _create_fresh(conn: Connection, head: str) -> None:
    ours = set(metadata.tables) & set(sa.inspect(conn).get_table_names())
    if ours:
        raise StorageError(
            f"the database has bakehouse tables ({', '.join(sorted(ours))}) but no schema "
            "revision, so it cannot be migrated safely"
        )
    metadata.create_all(conn)
    _version_metadata.create_all(conn)
    conn.execute(sa.insert(alembic_version).values(version_num=head))


def upgrade(
    conn: Connection, script_location: Path | None = None, *, storage_dir: Path | None = None
) -> None:
    """Run ``alembic upgrade head`` on `conn`, inside the caller's transaction."""
    from alembic import command  # imported here: only a migration pays for it
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(script_location or MIGRATIONS_DIR))
    # env.py runs on this connection rather than opening its own.
    config.attributes["connection"] = conn
    config.attributes["storage_dir"] = storage_dir
    command.upgrade(config, "head")

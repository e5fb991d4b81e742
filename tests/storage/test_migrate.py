"""Schema setup: the Alembic history equals `schema.metadata`, and open upgrades or refuses."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from bakehouse.errors import StorageError
from bakehouse.storage import Instance, RunRecord, migrate
from bakehouse.storage.schema import metadata

TEST_REVISION = '''"""Test-only revision: a column and an index on runs, added in batch mode."""

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{down_revision}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("note", sa.Text))
        batch.create_index("ix_runs_note", ["note"])


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_index("ix_runs_note")
        batch.drop_column("note")
'''


def _alembic_config(conn: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS_DIR))
    config.attributes["connection"] = conn
    return config


def _differences(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def _schema(engine: Engine) -> list[tuple[Any, ...]]:
    """Everything that defines the schema, as the database itself reports it."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            query = (
                "SELECT type, name, tbl_name, sql FROM sqlite_master "
                "WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"
            )
            return [tuple(row) for row in conn.exec_driver_sql(query)]
        columns = conn.exec_driver_sql(
            "SELECT table_name, column_name, data_type, character_maximum_length, is_nullable, "
            "column_default FROM information_schema.columns WHERE table_schema = 'public' "
            "ORDER BY table_name, column_name"
        )
        indexes = conn.exec_driver_sql(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
            "ORDER BY indexname"
        )
        constraints = conn.exec_driver_sql(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE connamespace = 'public'::regnamespace ORDER BY conname"
        )
        return [tuple(row) for result in (columns, indexes, constraints) for row in result]


def _drop_everything(engine: Engine) -> None:
    reflected = sa.MetaData()
    with engine.begin() as conn:
        reflected.reflect(conn)
        reflected.drop_all(conn)


def _versions(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return migrate.current_revisions(conn)


def test_revision_ids_are_the_file_prefixes_of_a_linear_history() -> None:
    scripts = ScriptDirectory(str(migrate.MIGRATIONS_DIR))
    oldest_first = list(reversed(list(scripts.walk_revisions())))
    assert [s.revision for s in oldest_first] == migrate.known_revisions()
    assert [s.down_revision for s in oldest_first] == [None, *migrate.known_revisions()[:-1]]
    assert scripts.get_heads() == [migrate.known_revisions()[-1]]
    for script in oldest_first:
        assert script.path is not None
        assert Path(script.path).name.startswith(f"{script.revision}_")


def test_alembic_history_builds_exactly_the_create_all_schema(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    with engine.connect() as conn, conn.begin():
        migrate.upgrade(conn)
    assert _differences(engine) == []
    migrated = _schema(engine)

    _drop_everything(engine)
    assert _schema(engine) == []
    Instance.open(db_url, storage_dir=tmp_path).close()  # the create_all fast path
    assert _differences(engine) == []
    assert _schema(engine) == migrated
    assert _versions(engine) == migrate.known_revisions()[-1:]


def test_downgrade_to_base_removes_every_table(engine: Engine) -> None:
    with engine.connect() as conn, conn.begin():
        migrate.upgrade(conn)
    with engine.connect() as conn, conn.begin():
        command.downgrade(_alembic_config(conn), "base")
    with engine.connect() as conn:
        assert set(sa.inspect(conn).get_table_names()) <= {migrate.VERSION_TABLE}


def test_open_does_not_import_alembic_when_none_is_needed(db_url: str, tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from bakehouse.storage import Instance\n"
        f"for _ in range(2):\n"  # a fresh database, then one already at head
        f"    Instance.open({db_url!r}, storage_dir=Path({str(tmp_path)!r})).close()\n"
        "print('alembic' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "False"


def test_an_older_revision_is_upgraded_on_open(
    db_url: str, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Instance.open(db_url, storage_dir=tmp_path) as instance:
        instance.create_run(RunRecord(run_id="before", tags={"kept": "yes"}))
    # A newer bakehouse: the shipped history plus one more revision.
    head = migrate.known_revisions()[-1]
    newer = f"{int(head) + 1:04d}"
    scripts = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / f"{newer}_test_note.py").write_text(
        TEST_REVISION.format(revision=newer, down_revision=head)
    )
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", scripts)

    with Instance.open(db_url, storage_dir=tmp_path) as instance:
        assert instance.get_run("before").tags == {"kept": "yes"}
        instance.create_run(RunRecord(run_id="after"))
    assert _versions(engine) == [newer]
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        assert "note" in {c["name"] for c in inspector.get_columns("runs")}
        assert "ix_runs_note" in {i["name"] for i in inspector.get_indexes("runs")}


def test_a_newer_unknown_revision_is_refused(db_url: str, engine: Engine, tmp_path: Path) -> None:
    Instance.open(db_url, storage_dir=tmp_path).close()
    with engine.begin() as conn:
        conn.execute(sa.update(migrate.alembic_version).values(version_num="9999"))
    with pytest.raises(StorageError, match="written by a newer bakehouse"):
        Instance.open(db_url, storage_dir=tmp_path)
    assert _versions(engine) == ["9999"]


def test_tables_without_a_revision_are_refused(db_url: str, engine: Engine, tmp_path: Path) -> None:
    with engine.begin() as conn:
        metadata.tables["runs"].create(conn)
    with pytest.raises(StorageError, match="no schema revision"):
        Instance.open(db_url, storage_dir=tmp_path)

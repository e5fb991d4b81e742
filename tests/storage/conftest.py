"""Fixtures that run every storage test on every backend: a SQLite file and a PostgreSQL database.

PostgreSQL is the server on 127.0.0.1:5432 (override with BAKEHOUSE_TEST_POSTGRES_URL, pointing at
a database we may connect to in order to create others). Each session (so each xdist worker)
creates its own uniquely named database and drops it at the end; each test starts from an empty
``public`` schema in it. When the server cannot be reached, the postgres tests are skipped and the
reason says so.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import OperationalError

from bakehouse.storage import Instance, dialect, migrate

POSTGRES_ADMIN_URL = os.environ.get(
    "BAKEHOUSE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]

OpenInstance = Callable[[], Instance]


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[URL]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    admin_url = make_url(POSTGRES_ADMIN_URL)
    admin = sa.create_engine(
        admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    try:
        try:
            with admin.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            pytest.skip(f"PostgreSQL is not reachable at {admin_url.render_as_string()}: {reason}")
        # One database per session, and so per xdist worker: workers never share tables.
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        name = f"bakehouse_test_{worker}_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield admin_url.set(database=name)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


def _empty_postgres(url: URL) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
    finally:
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The name of the backend this test runs on."""
    return str(request.param)


@pytest.fixture
def db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """The URL of an empty database of `backend`, for this test alone."""
    if backend == "sqlite":
        path = tmp_path / "db" / "bakehouse.db"
        path.parent.mkdir()
        return URL.create("sqlite", database=str(path)).render_as_string()
    url: URL = request.getfixturevalue("postgres_database")
    _empty_postgres(url)
    return url.render_as_string(hide_password=False)


@pytest.fixture
def open_instance(db_url: str, tmp_path: Path) -> Iterator[OpenInstance]:
    """Opens another Instance on the test's database; all are closed at teardown."""
    opened: list[Instance] = []

    def open_one() -> Instance:
        instance = Instance.open(db_url, storage_dir=tmp_path / "storage")
        opened.append(instance)
        return instance

    yield open_one
    for instance in opened:
        instance.close()


@pytest.fixture
def instance(open_instance: OpenInstance) -> Instance:
    """An Instance on an empty database of the backend under test."""
    return open_instance()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on the test's empty database, set up the way storage sets up its own."""
    engine = dialect.create_engine(dialect.parse_url(db_url))
    yield engine
    engine.dispose()


def upgrade_to(engine: Engine, revision: str) -> None:
    """Run the shipped Alembic history on `engine` up to `revision` (an older one, in tests of
    what a later revision does to the data it finds)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS_DIR))
    with engine.connect() as conn, conn.begin():
        config.attributes["connection"] = conn
        command.upgrade(config, revision)

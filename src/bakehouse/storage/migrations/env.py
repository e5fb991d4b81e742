"""Alembic environment of bakehouse storage: runs migrations on the connection it is handed.

`bakehouse.storage.migrate` passes an open connection in ``config.attributes["connection"]``.
Run from the ``alembic`` command line instead (with ``sqlalchemy.url`` set in an ini file), it
opens the URL the way bakehouse does, so SQLite gets the same connection settings.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from bakehouse.storage import dialect
from bakehouse.storage.schema import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things; batch mode copies the table instead. Autogenerate
        # then writes batch operations, which PostgreSQL runs as plain ALTERs.
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set sqlalchemy.url, or pass a connection in config.attributes")
    engine = dialect.create_engine(dialect.parse_url(url))
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


def _run_offline() -> None:
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _run_offline()
else:
    _run_online()

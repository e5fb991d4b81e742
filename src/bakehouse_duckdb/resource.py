"""`DuckDBResource`: a DuckDB database that assets open with ``get_connection()``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import Field

from bakehouse.authoring.resources import ConfigurableResource
from bakehouse_duckdb.connect import connect_with_retry


class DuckDBResource(ConfigurableResource):
    """A DuckDB database: ``with duckdb.get_connection() as conn: conn.execute(...)``.

    `database` is a file path (created on first use) or ``":memory:"``; `connection_config`
    is passed to ``duckdb.connect(config=...)`` (e.g. ``{"threads": 2}``).
    """

    database: str = Field(description="Path of the DuckDB database file, or ':memory:'.")
    connection_config: dict[str, Any] = Field(
        default_factory=dict,
        description="DuckDB configuration options for each connection (duckdb.connect config).",
    )

    @contextmanager
    def get_connection(self) -> Iterator[Any]:
        """A connection, closed when the block ends.

        While another process (another step of the run) holds the file, opening it is retried
        with back-off rather than failing.
        """
        connection = connect_with_retry(self.database, config=self.connection_config)
        try:
            yield connection
        finally:
            connection.close()

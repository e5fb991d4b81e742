"""Reads and makes the instance's shared secrets (table `instance_secrets`).

A secret is 32 random bytes (hex), made by the first process that asks for it; processes that
ask at the same moment agree on the one stored first (the primary key refuses the others).
"""

from __future__ import annotations

import secrets
import time

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bakehouse.errors import StorageError
from bakehouse.storage import dialect
from bakehouse.storage.schema import instance_secrets

_S = instance_secrets.c


def select(conn: Connection, name: str) -> str | None:
    """The secret called `name`, or None if none was made yet."""
    row = conn.execute(sa.select(_S.value).where(_S.name == name)).first()
    return None if row is None else str(row.value)


def get_or_make(conn: Connection, name: str) -> str:
    """The secret called `name`, made and stored now if there is none (in a write
    transaction: of concurrent makers, the first insert wins and all read it)."""
    row = {"name": name, "value": secrets.token_hex(32), "created_at": time.time()}
    dialect.insert_secret(conn, row)
    found = select(conn, name)
    if found is None:  # the insert above stored it or found it: it cannot be missing
        raise StorageError(f"the shared secret {name!r} could not be stored")
    return found

"""Reads and writes the deployment's API tokens (table `api_tokens`).

A token is made here (`secrets`, 256 random bits) and shown once to whoever created it; the
table keeps its SHA-256 only, which is also how a request's token is found. Tokens live in the
instance's database, so `bh token create` (no server running) and every webserver of the
deployment agree on them.
"""

from __future__ import annotations

import hashlib
import secrets
import time

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bakehouse.errors import StorageError
from bakehouse.storage.records import ApiTokenRecord
from bakehouse.storage.schema import api_tokens

# Tokens start with this, so that one pasted in the wrong place is recognisable (and a secret
# scanner can find it).
TOKEN_PREFIX = "bh_"

_T = api_tokens.c


def token_digest(token: str) -> str:
    """The SHA-256 (hex) a token is stored and found by."""
    return hashlib.sha256(token.encode()).hexdigest()


# How stale `last_used_at` may get: a busy token writes it at most once a minute, not on
# every request.
LAST_USED_GRANULARITY = 60.0

_COLUMNS = (_T.name, _T.read_only, _T.created_at, _T.expires_at, _T.last_used_at)


def _record(
    name: str,
    read_only: bool,
    created_at: float,
    expires_at: float | None,
    last_used_at: float | None,
) -> ApiTokenRecord:
    return ApiTokenRecord(
        name=name,
        read_only=bool(read_only),
        created_at=created_at,
        expires_at=expires_at,
        last_used_at=last_used_at,
    )


def insert(
    conn: Connection, name: str, *, read_only: bool, expires_at: float | None = None
) -> tuple[ApiTokenRecord, str]:
    """Make a new token called `name` (valid until `expires_at`, if given); returns its record
    and the token (shown only now)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiTokenRecord(
        name=name, read_only=read_only, created_at=time.time(), expires_at=expires_at
    )
    try:
        conn.execute(
            sa.insert(api_tokens).values(
                name=name,
                token_digest=token_digest(token),
                read_only=read_only,
                created_at=record.created_at,
                expires_at=expires_at,
            )
        )
    except IntegrityError as exc:
        raise StorageError(
            f"a token named '{name}' exists already; revoke it first or pick another name"
        ) from exc
    return record, token


def select_all(conn: Connection) -> list[ApiTokenRecord]:
    """Every token, by name."""
    query = sa.select(*_COLUMNS).order_by(_T.name)
    return [_record(*row) for row in conn.execute(query)]


def select_by_token(conn: Connection, token: str) -> ApiTokenRecord | None:
    """The token `token` is, or None (one lookup on the digest's unique index)."""
    query = sa.select(*_COLUMNS).where(_T.token_digest == token_digest(token))
    row = conn.execute(query).first()
    return None if row is None else _record(*row)


def mark_used(conn: Connection, name: str, now: float) -> None:
    """Set `last_used_at` of token `name` to `now`, unless it is less than a minute old."""
    stale = sa.or_(_T.last_used_at.is_(None), _T.last_used_at < now - LAST_USED_GRANULARITY)
    conn.execute(sa.update(api_tokens).where(_T.name == name).where(stale).values(last_used_at=now))


def delete(conn: Connection, name: str) -> bool:
    """Revoke the token called `name`; False if there is none."""
    return conn.execute(sa.delete(api_tokens).where(_T.name == name)).rowcount > 0


def exists(conn: Connection) -> bool:
    """True if the deployment has at least one token."""
    return conn.execute(sa.select(_T.name).limit(1)).first() is not None

"""The storage conformance suite for API tokens (table `api_tokens`), on every backend."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bakehouse.errors import StorageError
from bakehouse.storage import Instance, schema
from tests.storage.conftest import upgrade_to


def test_a_token_is_shown_once_and_found_by_itself(instance: Instance) -> None:
    assert not instance.has_api_tokens()
    record, token = instance.create_api_token("ci")
    assert token.startswith("bh_")
    assert len(token) > 40
    assert record.name == "ci"
    assert not record.read_only
    assert record.created_at > 0
    assert instance.has_api_tokens()
    assert instance.find_api_token(token) == record
    assert instance.find_api_token(token + "x") is None
    assert instance.find_api_token("") is None
    assert instance.get_api_tokens() == [record]


def test_only_the_digest_is_stored(instance: Instance, db_url: str) -> None:
    _, token = instance.create_api_token("ci")
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(schema.api_tokens)).mappings().all()
    finally:
        engine.dispose()
    assert len(rows) == 1
    assert token not in str(dict(rows[0]))
    assert rows[0]["token_digest"] == hashlib.sha256(token.encode()).hexdigest()


def test_read_only_tokens_say_so_and_names_are_unique(instance: Instance) -> None:
    reader, _ = instance.create_api_token("viewer", read_only=True)
    instance.create_api_token("admin")
    assert reader.read_only
    with pytest.raises(StorageError, match="a token named 'viewer' exists already"):
        instance.create_api_token("viewer")
    assert [t.name for t in instance.get_api_tokens()] == ["admin", "viewer"]
    with pytest.raises(ValueError, match="empty"):
        instance.create_api_token("")
    with pytest.raises(ValueError, match="printable"):
        instance.create_api_token("a\nb")


def test_a_revoked_token_stops_working(instance: Instance) -> None:
    _, token = instance.create_api_token("ci")
    _, other = instance.create_api_token("other")
    assert instance.revoke_api_token("ci")
    assert not instance.revoke_api_token("ci")
    assert instance.find_api_token(token) is None
    assert instance.find_api_token(other) is not None
    # The name is free again, with a new token.
    _, again = instance.create_api_token("ci")
    assert again != token
    assert instance.find_api_token(again) is not None


def test_a_0005_database_gets_the_table(db_url: str, engine: Engine, tmp_path: Path) -> None:
    upgrade_to(engine, "0005")
    with Instance.open(db_url, storage_dir=tmp_path / "storage") as instance:
        assert not instance.has_api_tokens()
        _, token = instance.create_api_token("ci")
        assert instance.find_api_token(token) is not None


def test_a_token_keeps_its_expiry_and_when_it_was_last_used(instance: Instance) -> None:
    record, token = instance.create_api_token("ci", expires_at=2_000_000_000.0)
    assert record.expires_at == 2_000_000_000.0
    assert record.last_used_at is None
    assert not record.expired(1_999_999_999.0)
    assert record.expired(2_000_000_000.0)
    found = instance.find_api_token(token)
    assert found == record
    instance.mark_api_token_used(found, 1_000.0)
    used = instance.find_api_token(token)
    assert used is not None
    assert used.last_used_at == 1_000.0
    # Within a minute nothing is written; after it, the new time is.
    instance.mark_api_token_used(used, 1_030.0)
    assert instance.get_api_tokens()[0].last_used_at == 1_000.0
    instance.mark_api_token_used(used, 1_061.0)
    assert instance.get_api_tokens()[0].last_used_at == 1_061.0
    _, forever = instance.create_api_token("forever")
    unbounded = instance.find_api_token(forever)
    assert unbounded is not None
    assert unbounded.expires_at is None
    assert not unbounded.expired(1e12)


def test_tokens_of_a_0008_database_never_expire(
    db_url: str, engine: Engine, tmp_path: Path
) -> None:
    upgrade_to(engine, "0008")
    with engine.begin() as conn:
        conn.execute(
            # The table as 0008 left it: the schema module already has the new columns.
            sa.text(
                "INSERT INTO api_tokens (name, token_digest, read_only, created_at) "
                "VALUES ('old', :digest, false, 1.0)"
            ),
            {"digest": hashlib.sha256(b"bh_old").hexdigest()},
        )
    with Instance.open(db_url, storage_dir=tmp_path / "storage") as instance:
        found = instance.find_api_token("bh_old")
        assert found is not None
        assert found.expires_at is None
        assert found.last_used_at is None

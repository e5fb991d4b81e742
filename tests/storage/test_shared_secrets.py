"""The storage conformance suite for shared secrets (table `instance_secrets`), on every
backend: made once, the same for every Instance on the storage, kept across reopening."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bakehouse.storage import Instance
from tests.storage.conftest import OpenInstance, upgrade_to


def test_a_secret_is_made_once_and_shared(open_instance: OpenInstance) -> None:
    first = open_instance()
    key = first.shared_secret("csrf_signing_key")
    assert len(key) == 32
    assert first.shared_secret("csrf_signing_key") == key
    assert open_instance().shared_secret("csrf_signing_key") == key
    assert first.shared_secret("another") not in (key, b"")


def test_a_secret_is_kept_when_storage_is_reopened(open_instance: OpenInstance) -> None:
    first = open_instance()
    key = first.shared_secret("csrf_signing_key")
    first.close()
    assert open_instance().shared_secret("csrf_signing_key") == key


def test_concurrent_first_uses_agree_on_one_secret(open_instance: OpenInstance) -> None:
    instances: list[Instance] = [open_instance() for _ in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        keys = set(pool.map(lambda i: i.shared_secret("raced"), instances))
    assert len(keys) == 1


def test_migration_0008_adds_the_secrets_table(engine: Engine) -> None:
    upgrade_to(engine, "0007")
    assert "instance_secrets" not in sa.inspect(engine).get_table_names()
    upgrade_to(engine, "0008")
    columns = {c["name"] for c in sa.inspect(engine).get_columns("instance_secrets")}
    assert columns == {"name", "value", "created_at"}

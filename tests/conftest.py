"""Fixtures every test folder may use; they live in tests/support/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.browser import browser
from tests.support.dev_server import dev_server
from tests.support.s3 import S3Server, s3_server_fixture


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's S3 server on a free loopback port, for the tests of this process."""
    yield from s3_server_fixture()


__all__ = ["browser", "dev_server", "s3_server"]

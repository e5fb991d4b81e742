"""Fixtures every test folder may use; they live in tests/support/."""

from __future__ import annotations

from tests.support.browser import browser
from tests.support.dev_server import dev_server

__all__ = ["browser", "dev_server"]

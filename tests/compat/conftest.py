"""Fixtures of the compat tests: the parsed example dbt project (for test_dbt.py)."""

from __future__ import annotations

from tests.support.dbt_projects import dbt_executable, parsed_jaffle

__all__ = ["dbt_executable", "parsed_jaffle"]

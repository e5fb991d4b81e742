"""Fixtures of this folder: the parsed example dbt project, throwaway projects to load."""

from __future__ import annotations

from tests.authoring.conftest import project
from tests.support.dbt_projects import dbt_executable, parsed_jaffle

__all__ = ["dbt_executable", "parsed_jaffle", "project"]

"""Fixtures for scaffolding tests: throwaway projects (imported for real when loaded)."""

from __future__ import annotations

from tests.authoring.conftest import project
from tests.support.projects import Project

__all__ = ["Project", "project"]

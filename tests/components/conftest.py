"""Fixtures for component tests: the authoring tests' throwaway projects, imported for real."""

from __future__ import annotations

from tests.authoring.conftest import project
from tests.support.projects import Project

__all__ = ["Project", "project"]


def add_registry(project: Project, *patterns: str) -> None:
    """Set ``registry_modules`` in the project's settings (its last table)."""
    pyproject = project.root / "pyproject.toml"
    listed = ", ".join(f'"{p}"' for p in patterns)
    pyproject.write_text(pyproject.read_text() + f"registry_modules = [{listed}]\n")

"""What every project command needs: the project, its code location and its instance."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from bakehouse.errors import ProjectError
from bakehouse.location.client import LocationTarget, target_for_project
from bakehouse.project.settings import ProjectSettings, find_project

if TYPE_CHECKING:
    from bakehouse.storage import Instance


def load_project(directory: Path | None = None) -> ProjectSettings:
    """The project at or above `directory` (default: the working directory), or a clean exit."""
    try:
        return find_project(directory or Path.cwd())
    except ProjectError as exc:
        raise click.ClickException(str(exc)) from None


def project_target(directory: Path | None = None) -> tuple[ProjectSettings, LocationTarget]:
    """The project and its code location."""
    settings = load_project(directory)
    return settings, target_for_project(settings)


def open_instance(settings: ProjectSettings | None) -> Instance:
    """The project's instance (``.bakehouse/``, or what BAKEHOUSE_HOME / _STORAGE_URL say)."""
    from bakehouse.storage import Instance

    default = settings.home if settings else Path.cwd() / ".bakehouse"
    return Instance.from_env(default)


def open_instance_here() -> Instance:
    """The instance of the project around the working directory, if any, else ``./.bakehouse``.

    Commands that only read runs work outside a project too, with BAKEHOUSE_HOME set.
    """
    try:
        settings: ProjectSettings | None = find_project(Path.cwd())
    except ProjectError:
        settings = None
    return open_instance(settings)

"""Workspaces: a folder of several projects, each one code location, served by one deployment.

A workspace's ``pyproject.toml`` says ``[tool.bakehouse] directory_type = "workspace"`` and lists
``[[tool.bakehouse.workspace.projects]] path = "projects/a"``; a dg workspace's ``dg.toml``
(``directory_type = "workspace"``, ``[[workspace.projects]]``) is read the same way. A project
folder on its own is a workspace of one, unless a workspace above it lists it: then that
workspace is the one its commands use (one instance, one running deployment).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bakehouse.errors import ProjectError
from bakehouse.project.code_server_settings import LoadLimit, read_load_limit
from bakehouse.project.run_queue import RunQueueSettings, read_run_queue
from bakehouse.project.settings import (
    ProjectSettings,
    find_project_file,
    read_project,
    settings_file_in,
)
from bakehouse.project.storage_settings import read_durability
from bakehouse.storage.durability import Durability


@dataclass(frozen=True, kw_only=True)
class Workspace:
    """The projects one deployment serves, and where it keeps its instance."""

    root: Path
    config_file: Path
    projects: tuple[ProjectSettings, ...]
    is_single_project: bool = False
    run_queue: RunQueueSettings = field(default_factory=RunQueueSettings)
    # `[tool.bakehouse.storage] durability` (None: not set, the storage's default).
    durability: Durability | None = None
    # `[tool.bakehouse.code_servers] local_startup_timeout`: how long a location may load.
    load_limit: LoadLimit = field(default_factory=LoadLimit)
    # Two locations may define one asset key (shown as a conflict) instead of the later one
    # failing to load (`host/key_clashes.py`).
    allow_duplicate_asset_keys: bool = False
    # The location of the member project a command was started in (found from inside it), so
    # that commands about one project's code (bh check defs, bh list defs) can keep to it.
    here: str | None = None

    @property
    def home(self) -> Path:
        """The default instance folder: ``.bakehouse/`` at the workspace root."""
        return self.root / ".bakehouse"

    def project(self, location_name: str) -> ProjectSettings:
        """The project whose code location is called `location_name`."""
        for project in self.projects:
            if project.location_name == location_name:
                return project
        names = ", ".join(p.location_name for p in self.projects)
        raise ProjectError(f"no code location named '{location_name}' (locations: {names})")

    def only_here(self) -> Workspace:
        """The workspace narrowed to the member project it was found from (all of it when it
        was found from elsewhere): what commands about one project's code look at."""
        if self.here is None:
            return self
        return replace(self, projects=(self.project(self.here),), is_single_project=True)


def _project_entries(table: dict[str, Any], prefix: str, config: Path) -> list[dict[str, Any]]:
    workspace = table.get("workspace", {})
    if not isinstance(workspace, dict):
        raise ProjectError(f"{config}: {prefix}.workspace must be a table")
    entries = workspace.get("projects", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ProjectError(
            f"{config}: {prefix}.workspace.projects must be a list of tables like "
            '{ path = "projects/a" }'
        )
    return entries


def read_workspace(config: Path) -> Workspace:
    """Parse the workspace (or single project) declared in `config`."""
    found = settings_file_in(config.parent)
    if found is None or found[0] != config:
        raise ProjectError(f"{config}: declares neither a project nor a workspace")
    _, prefix, table = found
    root = config.parent.resolve()
    kind = table.get("directory_type")
    run_queue = read_run_queue(table, prefix, config)
    durability = read_durability(table, prefix, config)
    load_limit = read_load_limit(table, prefix, config)
    if kind == "project":
        project = read_project(config)
        return Workspace(
            root=root,
            config_file=config,
            projects=(project,),
            is_single_project=True,
            run_queue=run_queue,
            durability=durability,
            load_limit=load_limit,
        )
    if kind != "workspace":
        raise ProjectError(
            f'{config}: {prefix}.directory_type must be "project" or "workspace", got {kind!r}'
        )
    projects: list[ProjectSettings] = []
    for index, entry in enumerate(_project_entries(table, prefix, config)):
        where = f"{config}: {prefix}.workspace.projects[{index}]"
        path = entry.get("path")
        if not isinstance(path, str) or not path:
            raise ProjectError(f"{where}.path must be a folder path")
        folder = (root / path).resolve()
        project_file = settings_file_in(folder) if folder.is_dir() else None
        if project_file is None:
            raise ProjectError(f"{where}.path: {folder} is not a project folder")
        project = read_project(project_file[0])
        name = entry.get("name")
        if name is not None:
            if not isinstance(name, str) or not name:
                raise ProjectError(f"{where}.name must be a non-empty string")
            project = _renamed(project, name)
        projects.append(project)
    seen: dict[str, Path] = {}
    for project in projects:
        if project.location_name in seen:
            raise ProjectError(
                f"{config}: two projects are named '{project.location_name}' "
                f"({seen[project.location_name]} and {project.root}); set a name for one"
            )
        seen[project.location_name] = project.root
    if not projects:
        raise ProjectError(f"{config}: the workspace lists no projects")
    allow = table.get("workspace", {}).get("allow_duplicate_asset_keys", False)
    if not isinstance(allow, bool):
        raise ProjectError(
            f"{config}: {prefix}.workspace.allow_duplicate_asset_keys must be true or false"
        )
    return Workspace(
        root=root,
        config_file=config,
        projects=tuple(projects),
        run_queue=run_queue,
        durability=durability,
        load_limit=load_limit,
        allow_duplicate_asset_keys=allow,
    )


def _renamed(project: ProjectSettings, name: str) -> ProjectSettings:
    return replace(project, location_name=name)


def find_workspace(start: Path) -> Workspace:
    """The workspace `start` is in: the nearest project or workspace at or above it, or, when
    that is a project that a workspace further up lists, that workspace (with `here` naming
    the project), so that a command run inside a member uses the workspace's instance."""
    config = find_project_file(start)
    found = settings_file_in(config.parent)
    if found is not None and found[2].get("directory_type") == "project":
        outer = _workspace_listing(config.parent.resolve())
        if outer is not None:
            return outer
    return read_workspace(config)


def _workspace_listing(project_root: Path) -> Workspace | None:
    """The nearest workspace above `project_root`, if it lists that project."""
    for folder in project_root.parents:
        found = settings_file_in(folder)
        if found is None:
            continue
        if found[2].get("directory_type") != "workspace":
            return None  # a project inside another project: each stands alone, as before
        workspace = read_workspace(found[0])
        member = next((p for p in workspace.projects if p.root == project_root), None)
        if member is None:
            return None  # a project in the workspace's folder that it does not list
        return replace(workspace, here=member.location_name)
    return None

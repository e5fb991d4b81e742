"""Create a project or a workspace folder, and list a new project in its workspace."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bakehouse.errors import ProjectError, ScaffoldError
from bakehouse.project.settings import read_project, settings_file_in
from bakehouse.scaffold.names import check_module_name
from bakehouse.scaffold.templates import render


@dataclass
class Created:
    """A new project or workspace: its folder, the files written, its workspace and venv."""

    root: Path
    name: str
    files: list[Path] = field(default_factory=list)
    workspace_config: Path | None = None
    venv: Path | None = None
    venv_error: str | None = None


def _enclosing(cwd: Path) -> tuple[Path, str] | None:
    """The nearest config at or above `cwd` that declares a project or workspace, and which."""
    here = cwd.resolve()
    for folder in (here, *here.parents):
        try:
            found = settings_file_in(folder)
        except ProjectError:
            continue
        if found:
            return found[0], str(found[2].get("directory_type"))
    return None


def _write(root: Path, relative: str, text: str, created: Created) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    created.files.append(path)


def project_destination(name: str, cwd: Path) -> tuple[Path, str, Path | None]:
    """Where `bh create project NAME` goes, its module name and the workspace it joins.

    At a workspace's root a bare name goes to ``projects/NAME``; elsewhere NAME is a path.
    """
    path = Path(name)
    module = check_module_name(path.name)
    enclosing = _enclosing(cwd)
    if enclosing and enclosing[1] == "project":
        raise ScaffoldError(
            f"{cwd} is inside the project of {enclosing[0]}; create new projects outside it "
            "(or in a workspace)"
        )
    workspace = enclosing[0] if enclosing and enclosing[1] == "workspace" else None
    if workspace and len(path.parts) == 1 and cwd.resolve() == workspace.parent.resolve():
        destination = workspace.parent / "projects" / module
    else:
        destination = cwd / path
    destination = destination.resolve()
    if destination.exists():
        raise ScaffoldError(
            f"{destination} already exists; pick another name or remove the folder first"
        )
    if workspace and workspace.parent.resolve() not in destination.parents:
        workspace = None
    return destination, module, workspace


def create_project(
    name: str,
    *,
    cwd: Path,
    python: str | None = None,
    make_venv: bool = True,
    installer: str = "auto",
    say: Callable[[str], None] = lambda _: None,
    progress: Callable[[str], None] = lambda _: None,
) -> Created:
    """A ready project at `name` (relative to `cwd`), listed in its workspace if in one.

    It is listed only once its venv is made, so that a deployment of the workspace reading
    the file meanwhile never finds a location without its environment. A failure to make the
    venv leaves the project in place (listed: it runs with bh's Python) and is told in
    `venv_error`. `installer` ("auto", "uv", "pip"), `say` and `progress` are as for
    `venvs.make_venv`.
    """
    from bakehouse.scaffold import venv as venvs

    root, module, workspace = project_destination(name, cwd)
    uv = venvs.choose_installer(installer) if make_venv else ""
    if make_venv:
        interpreter, version = venvs.find_python(python)
    else:
        interpreter, version = "", venvs.parse_version(python)
    created = Created(root=root, name=module, workspace_config=workspace)
    values = {"name": module, "python_min": f"{version[0]}.{version[1]}"}
    root.mkdir(parents=True)
    try:
        for relative, template in (
            ("pyproject.toml", "project/pyproject.toml"),
            (f"src/{module}/definitions.py", "project/definitions.py"),
            ("tests/test_definitions.py", "project/test_definitions.py"),
            ("README.md", "project/README.md"),
            (".gitignore", "project/gitignore"),
        ):
            _write(root, relative, render(template, **values), created)
        _write(root, f"src/{module}/__init__.py", "", created)
        _write(root, f"src/{module}/defs/__init__.py", "", created)
        read_project(root / "pyproject.toml")  # what we wrote must read back as a project
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)  # no half-written project left behind
        raise
    if make_venv:
        try:
            created.venv = venvs.make_venv(
                root, python=interpreter, uv=uv, say=say, progress=progress
            )
        except ScaffoldError as exc:
            created.venv_error = str(exc)
        except KeyboardInterrupt:
            shutil.rmtree(root, ignore_errors=True)  # not listed yet: as if never started
            raise
    if workspace:
        add_to_workspace(workspace, root)
    return created


def create_workspace(name: str, *, cwd: Path) -> Created:
    """A workspace folder at `name` (relative to `cwd`), with an empty ``projects/``."""
    root = (cwd / name).resolve()
    if root.exists():
        raise ScaffoldError(f"{root} already exists; pick another name or remove the folder first")
    enclosing = _enclosing(cwd)
    if enclosing:
        raise ScaffoldError(
            f"{cwd} is inside the {enclosing[1]} of {enclosing[0]}; create the workspace outside it"
        )
    created = Created(root=root, name=root.name)
    root.mkdir(parents=True)
    values = {"name": root.name}
    for relative, template in (
        ("pyproject.toml", "workspace/pyproject.toml"),
        ("README.md", "workspace/README.md"),
        (".gitignore", "workspace/gitignore"),
    ):
        _write(root, relative, render(template, **values), created)
    (root / "projects").mkdir()
    return created


def _entries(config: Path) -> list[dict[str, object]]:
    found = settings_file_in(config.parent)
    if found is None:
        return []
    workspace = found[2].get("workspace", {})
    projects = workspace.get("projects", []) if isinstance(workspace, dict) else []
    return [e for e in projects if isinstance(e, dict)] if isinstance(projects, list) else []


def add_to_workspace(config: Path, project_root: Path) -> None:
    """List `project_root` in the workspace declared by `config` (once)."""
    relative = Path(os.path.relpath(project_root, config.parent)).as_posix()
    listed = {(config.parent / str(e.get("path", ""))).resolve() for e in _entries(config)}
    if project_root.resolve() in listed:
        return
    found = settings_file_in(config.parent)
    prefix = found[1] if found else "tool.bakehouse"
    header = "[[workspace.projects]]" if prefix == "dg.toml" else f"[[{prefix}.workspace.projects]]"
    entry = f'{header}\npath = "{relative}"\n'
    original = config.read_text(encoding="utf-8")
    config.write_text(original.rstrip("\n") + "\n\n" + entry, encoding="utf-8")
    try:
        ok = any(e.get("path") == relative for e in _entries(config))
    except ProjectError:
        ok = False
    if not ok:
        config.write_text(original, encoding="utf-8")
        raise ScaffoldError(f"could not add the project to {config}; add it by hand:\n{entry}")

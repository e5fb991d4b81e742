"""Write new definition files under a project's defs folder, never outside it or over a file.

``bh scaffold defs KIND PATH`` writes a Python template (asset, schedule, ...) or, for a
component type, an instance folder with its ``defs.yaml``; ``bh scaffold component NAME`` writes
a new component type into the project's components package.
"""

from __future__ import annotations

import keyword
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from bakehouse.errors import ScaffoldError
from bakehouse.project.settings import ProjectSettings
from bakehouse.scaffold.names import check_class_name, snake_case
from bakehouse.scaffold.templates import render

PYTHON_KINDS = ("asset", "multi_asset", "schedule", "sensor", "resource", "job", "asset_check")
_ALIASES = {"resources": "resource", "assets": "asset", "check": "asset_check"}
_PREFIXES = ("bakehouse.", "dagster.", "dg.")
# Short kinds naming a component type of an integration package.
COMPONENT_KINDS = {"dbt_project": "bakehouse_dbt.DbtProjectComponent"}


@dataclass
class Scaffolded:
    """What a scaffolding command wrote, and what the user should know about it."""

    written: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def python_kind(kind: str) -> str | None:
    """The Python template `kind` names (``asset``, ``dagster.asset``...), or None."""
    name = kind
    for prefix in _PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    name = _ALIASES.get(name, name)
    return name if name in PYTHON_KINDS else None


def defs_folder(project: ProjectSettings) -> Path:
    """The folder of the project's defs package."""
    folder = project.source_dir.joinpath(*project.defs_module.split("."))
    if not folder.is_dir():
        raise ScaffoldError(
            f"{project.pyproject}: the defs module {project.defs_module} has no folder "
            f"{folder}; create it, or set {project.tool_table}.project.defs_module"
        )
    return folder


def target_in(defs: Path, raw: str) -> Path:
    """`raw`, a path relative to the defs folder, as a path in it; refuses one outside it."""
    text = raw.strip()
    if not text:
        raise ScaffoldError("give a path inside the defs folder, like raw/orders.py")
    if os.path.isabs(text) or PureWindowsPath(text).anchor or text.startswith("~"):
        raise ScaffoldError(
            f"'{raw}' is an absolute path; give a path relative to the defs folder {defs}"
        )
    parts = PurePosixPath(text.replace("\\", "/")).parts
    if ".." in parts:
        raise ScaffoldError(
            f"'{raw}' leaves the defs folder ('..' is not allowed); definitions live under {defs}"
        )
    target = defs.joinpath(*parts)
    root = defs.resolve()
    resolved = target.resolve()
    if resolved != root and root not in resolved.parents:
        raise ScaffoldError(f"'{raw}' resolves to {resolved}, outside the defs folder {defs}")
    if resolved == root:
        raise ScaffoldError(f"'{raw}' is the defs folder itself; name a file or folder in it")
    return target


def _check_packages(defs: Path, target: Path, raw: str) -> list[Path]:
    """The folders between `defs` and `target`: each must be a module name and no component
    instance (whose folder loads through its defs.yaml, not as modules)."""
    folders: list[Path] = []
    current = defs
    for part in target.relative_to(defs).parts[:-1]:
        current = current / part
        if not part.isidentifier() or part.startswith("__"):
            raise ScaffoldError(
                f"'{raw}': folder '{part}' is not a Python package name, so nothing in it would "
                "load; use letters, digits and '_'"
            )
        if current.is_file():
            raise ScaffoldError(f"'{raw}': {current} is a file, not a folder")
        if (current / "defs.yaml").is_file():
            raise ScaffoldError(
                f"'{raw}': {current} is a component instance (it holds defs.yaml); its folder "
                "is loaded through its component, so a module in it would not load"
            )
        folders.append(current)
    return folders


def _write(path: Path, text: str, *, force: bool, result: Scaffolded) -> None:
    if path.is_dir():
        raise ScaffoldError(f"{path} is a folder")
    if path.exists() and not force:
        raise ScaffoldError(f"{path} already exists; use --force to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    result.written.append(path)


def _make_packages(folders: list[Path], result: Scaffolded) -> None:
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        init = folder / "__init__.py"
        if not init.exists():
            init.write_text("", encoding="utf-8")
            result.written.append(init)


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part) or "Thing"


def _values(kind: str, name: str, group: str | None, asset: str | None) -> dict[str, str]:
    asset_args = f'group_name="{group}", kinds={{"python"}}' if group else 'kinds={"python"}'
    multi_args = f'\n    group_name="{group}",' if group else ""
    checked = asset or name.removesuffix("_check").removeprefix("check_") or name
    # The check receives the asset's value in a parameter; name it after the asset when it can.
    last = checked.rsplit("/", 1)[-1]
    taken = {name, "dg", "Any"}  # names the template itself uses
    usable = last.isidentifier() and last not in taken and not keyword.iskeyword(last)
    value = last if usable else "value"
    return {
        "name": name,
        "upper": name.upper(),
        "cls": _camel(name),
        "asset_args": asset_args,
        "multi_args": multi_args,
        "asset": checked,
        "value": value,
    }


def scaffold_python_defs(
    project: ProjectSettings, kind: str, raw_path: str, *, force: bool, asset: str | None = None
) -> Scaffolded:
    """Write the `kind` template at `raw_path` under the defs folder."""
    template = python_kind(kind)
    if template is None:
        raise ScaffoldError(f"unknown kind '{kind}'")
    defs = defs_folder(project)
    if not raw_path.strip():
        raise ScaffoldError(f"give a path inside the defs folder, like raw/{template}s.py")
    if PurePosixPath(raw_path).suffix not in ("", ".py"):
        raise ScaffoldError(f"'{raw_path}': a {template} is a Python file; name it like x.py")
    target = target_in(defs, raw_path if raw_path.endswith(".py") else f"{raw_path}.py")
    name = target.stem
    if not name.isidentifier() or name.startswith("__") or not name.isascii():
        raise ScaffoldError(
            f"'{raw_path}': '{name}' is not a Python module name, so the file would not load; "
            "use letters, digits and '_' (not starting with a digit)"
        )
    if (target.parent / name).is_dir():
        raise ScaffoldError(
            f"'{raw_path}': a folder {target.parent / name} exists beside it with the same "
            "module name; only one of them would load"
        )
    folders = _check_packages(defs, target, raw_path)
    group = target.parent.name if target.parent != defs else None
    text = render(f"defs/{template}.py", **_values(template, name, group, asset))
    result = Scaffolded()
    if target.exists() and not force:
        raise ScaffoldError(f"{target} already exists; use --force to replace it")
    _make_packages(folders, result)
    _write(target, text, force=force, result=result)
    return result


def scaffold_component_instance(
    project: ProjectSettings,
    type_name: str,
    raw_path: str,
    *,
    force: bool,
    files: Mapping[str, str] | None = None,
    attributes: dict[str, Any] | None = None,
) -> Scaffolded:
    """Write an instance folder of component `type_name` at `raw_path` under the defs folder,
    with the given `attributes` in its ``defs.yaml``.

    The files come from the project's interpreter (which can import the type) unless given.
    """
    defs = defs_folder(project)
    type_name = COMPONENT_KINDS.get(type_name, type_name)
    if files is None:
        # The type first: "no such type" is the more useful answer to a mistyped kind.
        from bakehouse.scaffold.component_client import instance_files

        type_name, files = instance_files(project, type_name, attributes)
    target = target_in(defs, raw_path)
    if target.suffix in (".py", ".yaml", ".yml"):
        raise ScaffoldError(
            f"'{raw_path}': a component instance is a folder (holding defs.yaml); give a folder "
            "name like warehouse or analytics/models"
        )
    if target.name.startswith((".", "__")):
        raise ScaffoldError(f"'{raw_path}': a folder starting with '.' or '__' is not loaded")
    folders = _check_packages(defs, target, raw_path)
    if target.is_file():
        raise ScaffoldError(f"{target} is a file")
    if target.is_dir() and any(target.rglob("*.py")) and not (target / "defs.yaml").exists():
        raise ScaffoldError(
            f"{target} holds Python modules; as a component instance they would no longer load. "
            "Pick a new folder"
        )
    if (target / "defs.yaml").exists() and not force:
        raise ScaffoldError(f"{target / 'defs.yaml'} already exists; use --force to replace it")
    existing = [target / rel for rel in files if (target / rel).exists()]
    if existing and not force:
        listed = ", ".join(str(p) for p in existing)
        raise ScaffoldError(f"{listed} already exist; use --force to replace them")
    for relative in files:
        target_in(target, relative)  # the component's own files stay in its folder too
    result = Scaffolded()
    _make_packages(folders, result)
    for relative, text in files.items():
        _write(target / relative, text, force=True, result=result)
    result.notes.append(f"component instance of {type_name}: edit {target / 'defs.yaml'}")
    return result


def dbt_project_attribute(project: ProjectSettings, raw: str) -> str:
    """The ``project`` attribute of a DbtProjectComponent for the dbt project at `raw` (a
    path from the current folder): under the project root it is written from
    ``{{ project_root }}``, so the instance keeps working when the project moves."""
    folder = Path(raw).expanduser().resolve()
    if not (folder / "dbt_project.yml").is_file():
        raise ScaffoldError(
            f"'{raw}': {folder} holds no dbt_project.yml; give a dbt project's folder"
        )
    root = project.root.resolve()
    if folder == root or root in folder.parents:
        return "{{ project_root }}/" + folder.relative_to(root).as_posix()
    return str(folder)


def components_package(project: ProjectSettings) -> tuple[str, Path]:
    """The module name and folder of the project's own component types."""
    module = f"{project.root_module}.components"
    return module, project.source_dir.joinpath(*module.split("."))


def covered_by_registry(module: str, registry_modules: tuple[str, ...]) -> bool:
    """Whether `module` is among the modules ``registry_modules`` names."""
    for pattern in registry_modules:
        if pattern.endswith(".*"):
            base = pattern[:-2]
            if module == base or module.startswith(base + "."):
                return True
        elif module == pattern:
            return True
    return False


def scaffold_component_type(
    project: ProjectSettings, class_name: str, *, force: bool
) -> Scaffolded:
    """Write a new component type class into the project's components package."""
    check_class_name(class_name)
    package, folder = components_package(project)
    module_name = snake_case(class_name)
    module = f"{package}.{module_name}"
    type_name = f"{module}.{class_name}"
    text = render("component/component.py", cls=class_name, type_name=type_name)
    result = Scaffolded()
    target = folder / f"{module_name}.py"
    if target.exists() and not force:
        raise ScaffoldError(f"{target} already exists; use --force to replace it")
    init = folder / "__init__.py"
    if not init.exists():
        _write(init, '"""This project\'s component types (see bh list components)."""\n',
               force=False, result=result)  # fmt: skip
    _write(target, text, force=force, result=result)
    result.notes.append(f"use it in defs.yaml as type: {type_name}")
    if not covered_by_registry(module, project.registry_modules):
        result.notes.append(
            f'add "{package}.*" to {project.tool_table}.project.registry_modules in '
            f"{project.pyproject} so that bh list components shows it"
        )
    return result

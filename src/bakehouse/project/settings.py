"""Read `[tool.bakehouse]` (or `[tool.dg]`, same keys) from a project's `pyproject.toml`."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bakehouse.errors import ProjectError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
TOOL_TABLES = ("bakehouse", "dg")
# The values of ``defs_errors``: a module that fails to load is skipped and reported, or fails
# its whole location (see docs/projects.md, "When one module fails to load").
DEFS_ERRORS_MODES = ("isolate", "fail")


@dataclass(frozen=True, kw_only=True)
class ProjectSettings:
    """One project: a code location's module, where it lives and how to load it."""

    root: Path
    pyproject: Path
    root_module: str
    defs_module: str
    definitions_module: str | None
    location_name: str
    source_dir: Path
    python: str | None = None
    registry_modules: tuple[str, ...] = ()
    tool_table: str = "tool.bakehouse"
    env: dict[str, str] = field(default_factory=dict)
    # ``[tool.bakehouse.executor]``: the executor of runs whose definitions name none.
    executor: dict[str, Any] | None = None
    # What a serving location does with a module under its defs folder that fails to load:
    # "isolate" loads the rest (LOADED_WITH_ERRORS), "fail" fails the whole location.
    defs_errors: str = "isolate"

    @property
    def home(self) -> Path:
        """The default instance folder: ``.bakehouse/`` in the project."""
        return self.root / ".bakehouse"


def _tool_table(data: dict[str, Any], path: Path) -> tuple[str, dict[str, Any]] | None:
    """The settings table of a config file and how to name it in messages.

    In ``pyproject.toml`` it is ``[tool.bakehouse]`` or ``[tool.dg]``; a ``dg.toml`` is the
    table itself.
    """
    if path.name == "dg.toml":
        return ("dg.toml", data) if "directory_type" in data else None
    tool = data.get("tool", {})
    for name in TOOL_TABLES:
        table = tool.get(name)
        if isinstance(table, dict) and "directory_type" in table:
            return f"tool.{name}", table
    return None


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data: dict[str, Any] = tomllib.load(fh)
            return data
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(f"{path}: invalid TOML: {exc}") from None


CONFIG_FILES = ("dg.toml", "pyproject.toml")


def settings_file_in(folder: Path) -> tuple[Path, str, dict[str, Any]] | None:
    """The config file of `folder` that says what it is, its table's name and the table."""
    for name in CONFIG_FILES:
        candidate = folder / name
        if candidate.is_file():
            found = _tool_table(_load_toml(candidate), candidate)
            if found:
                return candidate, found[0], found[1]
    return None


def find_project_file(start: Path) -> Path:
    """The nearest config file at or above `start` that declares a project or workspace."""
    here = start.resolve()
    for folder in (here, *here.parents):
        found = settings_file_in(folder)
        if found:
            return found[0]
    raise ProjectError(
        f"no bakehouse project found at or above {here}: expected a pyproject.toml with "
        '[tool.bakehouse] directory_type = "project" (or [tool.dg], or a dg.toml). '
        "Run bh from inside a project."
    )


def read_project(pyproject: Path) -> ProjectSettings:
    """Parse and validate the project settings in `pyproject`; errors name the key and file."""
    data = _load_toml(pyproject)
    found = _tool_table(data, pyproject)
    if found is None:
        raise ProjectError(
            f"{pyproject}: no [tool.bakehouse] or [tool.dg] table with directory_type"
        )
    prefix, table = found
    table_name = prefix
    directory_type = table.get("directory_type")
    if directory_type != "project":
        raise ProjectError(
            f"{pyproject}: {prefix}.directory_type is {directory_type!r}; this command needs "
            '"project" (workspaces hold several projects)'
        )
    project = table.get("project", {})
    if not isinstance(project, dict):
        raise ProjectError(f"{pyproject}: {prefix}.project must be a table")
    root = pyproject.parent.resolve()
    root_module = project.get("root_module")
    if root_module is None:
        root_module = _guess_root_module(root)
    if not isinstance(root_module, str) or not _MODULE.match(root_module):
        raise ProjectError(
            f"{pyproject}: {prefix}.project.root_module must be a module name, got {root_module!r}"
        )
    defs_module = project.get("defs_module", f"{root_module}.defs")
    if not isinstance(defs_module, str) or not _MODULE.match(defs_module):
        raise ProjectError(
            f"{pyproject}: {prefix}.project.defs_module must be a module name, got {defs_module!r}"
        )
    top = root_module.split(".")[0]
    source_dir = root / "src" if (root / "src" / top).exists() else root
    if not (source_dir / top).exists():
        raise ProjectError(
            f"{pyproject}: {prefix}.project.root_module is {root_module!r}, but neither "
            f"{root / 'src' / top} nor {root / top} exists"
        )
    target = project.get("code_location_target_module")
    if target is None:
        default = f"{root_module}.definitions"
        module_path = source_dir.joinpath(*default.split("."))
        target = (
            default if module_path.with_suffix(".py").is_file() or module_path.is_dir() else None
        )
    elif not isinstance(target, str) or not _MODULE.match(target):
        raise ProjectError(
            f"{pyproject}: {prefix}.project.code_location_target_module must be a module name"
        )
    name = project.get("code_location_name", root_module)
    if not isinstance(name, str) or not name:
        raise ProjectError(f"{pyproject}: {prefix}.project.code_location_name must be a string")
    registry = project.get("registry_modules", [])
    if not isinstance(registry, list) or not all(isinstance(m, str) for m in registry):
        raise ProjectError(
            f"{pyproject}: {prefix}.project.registry_modules must be a list of strings"
        )
    for index, pattern in enumerate(registry):
        if not _MODULE.match(pattern.removesuffix(".*")):
            raise ProjectError(
                f"{pyproject}: {prefix}.project.registry_modules[{index}] must be a module name "
                f'or a package followed by .* (like "{root_module}.components.*"), '
                f"got {pattern!r}"
            )
    python = project.get("python")
    if python is not None and not isinstance(python, str):
        raise ProjectError(f"{pyproject}: {prefix}.project.python must be a path string")
    defs_errors = table.get("defs_errors", "isolate")
    if defs_errors not in DEFS_ERRORS_MODES:
        raise ProjectError(
            f"{pyproject}: {prefix}.defs_errors must be one of "
            f"{', '.join(repr(m) for m in DEFS_ERRORS_MODES)}, got {defs_errors!r}"
        )
    return ProjectSettings(
        root=root,
        pyproject=pyproject,
        root_module=root_module,
        defs_module=defs_module,
        definitions_module=target,
        location_name=name,
        source_dir=source_dir,
        python=python,
        registry_modules=tuple(registry),
        tool_table=table_name,
        env=load_env_file(root),
        executor=read_executor(table, pyproject, prefix),
        defs_errors=defs_errors,
    )


EXECUTOR_NAMES = ("in_process", "multiprocess", "celery")


def read_executor(table: dict[str, Any], path: Path, prefix: str) -> dict[str, Any] | None:
    """``[<prefix>.executor]``: ``name`` (in_process, multiprocess, celery) and a ``config``
    table, as the deployment's default executor; None when absent."""
    executor = table.get("executor")
    if executor is None:
        return None
    if not isinstance(executor, dict):
        raise ProjectError(f"{path}: {prefix}.executor must be a table")
    name = executor.get("name")
    if name not in EXECUTOR_NAMES:
        raise ProjectError(
            f"{path}: {prefix}.executor.name must be one of {', '.join(EXECUTOR_NAMES)}, "
            f"got {name!r}"
        )
    unknown = sorted(set(executor) - {"name", "config"})
    if unknown:
        raise ProjectError(f"{path}: {prefix}.executor has no key {unknown} (keys: name, config)")
    config = executor.get("config", {})
    if not isinstance(config, dict):
        raise ProjectError(f"{path}: {prefix}.executor.config must be a table")
    return {"name": name, "config": config}


def _guess_root_module(root: Path) -> str | None:
    # As dg does: without root_module, the distribution name in pyproject.toml, underscored.
    pyproject = root / "pyproject.toml"
    name = _load_toml(pyproject).get("project", {}).get("name") if pyproject.is_file() else None
    if isinstance(name, str):
        return name.replace("-", "_").replace(".", "_")
    return None


def load_env_file(root: Path) -> dict[str, str]:
    """Variables of the project's ``.env`` file, for its code location's processes."""
    env_file = root / ".env"
    if not env_file.is_file():
        return {}
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(env_file).items() if v is not None}


# Every key a settings table may hold, by sub-table ("" is the table itself). Dagster's keys
# that bakehouse reads no meaning from are known too, so a dg project checks clean.
KNOWN_KEYS: dict[str, tuple[str, ...]] = {
    "": (
        "directory_type",
        "project",
        "workspace",
        "cli",
        "run_queue",
        "storage",
        "executor",
        "defs_errors",
        "code_servers",
    ),
    "storage": ("durability",),
    "code_servers": ("local_startup_timeout",),
    "project": (
        "root_module",
        "defs_module",
        "code_location_target_module",
        "code_location_name",
        "registry_modules",
        "python",
        "autoload_defs",
        "python_environment",
    ),
    "workspace": ("projects", "scaffold_project_options", "allow_duplicate_asset_keys"),
    "workspace.projects": ("path", "name"),
}


def settings_warnings(config: Path) -> list[str]:
    """What is suspicious but not wrong in `config`'s settings: unknown keys (with the known
    key they look like), two settings tables, an interpreter path that does not exist.
    """
    import difflib

    found = settings_file_in(config.parent)
    if found is None:
        return []
    _, prefix, table = found
    warnings: list[str] = []

    def check(values: dict[str, Any], section: str, shown: str) -> None:
        known = KNOWN_KEYS[section]
        for key in values:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f" (did you mean {close[0]}?)" if close else f" (known: {', '.join(known)})"
                warnings.append(f"{config}: {shown}.{key}: unknown key, ignored{hint}")

    check(table, "", prefix)
    for section in ("project", "workspace", "storage", "code_servers"):
        value = table.get(section)
        if isinstance(value, dict):
            check(value, section, f"{prefix}.{section}")
    workspace = table.get("workspace")
    entries = workspace.get("projects") if isinstance(workspace, dict) else None
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        if isinstance(entry, dict):
            check(entry, "workspace.projects", f"{prefix}.workspace.projects[{index}]")
    if config.name == "pyproject.toml":
        tools = _load_toml(config).get("tool", {})
        both = [n for n in TOOL_TABLES if isinstance(tools.get(n), dict)]
        if len(both) > 1:
            warnings.append(
                f"{config}: both [tool.bakehouse] and [tool.dg] are present; only {prefix} is read"
            )
    project = table.get("project")
    python = project.get("python") if isinstance(project, dict) else None
    if isinstance(python, str):
        path = Path(python) if Path(python).is_absolute() else config.parent / python
        if not path.exists():
            warnings.append(f"{config}: {prefix}.project.python: {path} does not exist")
    return warnings


def find_project(start: Path) -> ProjectSettings:
    """The project at or above `start`."""
    return read_project(find_project_file(start))

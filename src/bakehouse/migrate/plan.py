"""Plan a project's migration from Dagster: every file's new text and every name bakehouse lacks.

Nothing is written here; `Migration.apply` writes the planned files.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
import tomlkit.exceptions

from bakehouse.migrate.dependency_files import rewrite_requirements_txt, rewrite_setup_py
from bakehouse.migrate.modules import ModuleRenamer
from bakehouse.migrate.pyproject_file import rewrite_pyproject
from bakehouse.migrate.python_source import NameUse, rewrite_module
from bakehouse.migrate.readme import rewrite_readme
from bakehouse.migrate.requirements import RequirementRule
from bakehouse.migrate.resolve import missing_names

# Folders that hold no project source: environments, caches, build output, VCS data.
_SKIPPED_DIRS = {"node_modules", "__pycache__", "build", "dist", "site-packages", "venv", "env"}
_REQUIREMENTS_FILE = re.compile(r"^requirements.*\.(txt|in)$")
_README = re.compile(r"^README(\.(md|rst|txt))?$", re.IGNORECASE)
_DAGSTER_DISTRIBUTION = re.compile(r"\bdagster[-_]([A-Za-z0-9][A-Za-z0-9_-]*)")


@dataclass(frozen=True)
class FileChange:
    """One file's text before and after."""

    path: Path
    old: str
    new: str


@dataclass(frozen=True)
class MissingName:
    """A name the project uses that bakehouse does not have, where it is used and why it fails."""

    path: Path
    line: int
    shown: str
    reason: str


@dataclass
class Migration:
    """What migrating `root` changes, what bakehouse lacks, and what could not be read."""

    root: Path
    changes: list[FileChange] = field(default_factory=list)
    missing: list[MissingName] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def relative(self, path: Path) -> str:
        """`path` as shown to the user: relative to the project root."""
        return path.relative_to(self.root).as_posix()

    def apply(self) -> None:
        """Write every planned file."""
        for change in self.changes:
            change.path.write_text(change.new, encoding="utf-8")


def _project_files(root: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".") and d not in _SKIPPED_DIRS and not d.endswith(".egg-info")
        )
        for name in sorted(files):
            yield Path(folder) / name


def own_modules(root: Path) -> frozenset[str]:
    """Names the project's own code may be imported under: every folder holding Python files
    and every module's name, anywhere in the tree (a workspace has several ``src/`` folders).
    Over-counting is harmless: only names that start with ``dagster_`` matter.
    """
    names: set[str] = set()
    for path in _project_files(root):
        if path.suffix == ".py":
            names.add(path.stem)
            names.update(path.relative_to(root).parts[:-1])
    return frozenset(names)


# Dagster files bakehouse does not read, and where their meaning goes instead.
_UNREAD_FILES = {
    "workspace.yaml": "bakehouse does not read it; a workspace is a dg.toml or pyproject.toml "
    'with directory_type = "workspace" listing its projects (docs/projects.md)',
    "dagster.yaml": "bakehouse does not read it; runs are stored in .bakehouse/ in the project, "
    "or where BAKEHOUSE_STORAGE_URL points (PostgreSQL)",
}


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@dataclass
class _Planner:
    root: Path
    python: str
    migration: Migration
    renamer: ModuleRenamer
    uses: list[tuple[Path, NameUse]] = field(default_factory=list)

    def change(self, path: Path, old: str, new: str) -> None:
        if new != old:
            self.migration.changes.append(FileChange(path=path, old=old, new=new))

    def python_file(self, path: Path) -> str | None:
        old = _read(path)
        try:
            rewritten = rewrite_module(old, self.renamer)
        except cst.ParserSyntaxError as exc:
            where = f"{self.migration.relative(path)}:{exc.raw_line}"
            self.migration.errors.append(f"{where}: not valid Python, left as is: {exc.message}")
            return None
        self.uses.extend((path, use) for use in rewritten.uses)
        return rewritten.text

    def python_example(self, code: str) -> str | None:
        """A README's Python block rewritten; None when it is not valid Python on its own."""
        try:
            return rewrite_module(code, self.renamer).text
        except cst.ParserSyntaxError:
            return None

    def resolve(self, dependency_files: list[Path]) -> RequirementRule:
        candidates = {
            RequirementRule.module_for(f"dagster-{match.group(1).lower()}")
            for path in dependency_files
            for match in _DAGSTER_DISTRIBUTION.finditer(_read(path))
        }
        missing = missing_names(
            [use.target for _, use in self.uses] + sorted(candidates), self.python
        )
        for path, use in self.uses:
            if use.target in missing:
                self.migration.missing.append(
                    MissingName(
                        path=path, line=use.line, shown=use.shown, reason=missing[use.target]
                    )
                )
        return RequirementRule(bundled=frozenset(candidates - set(missing)))

    def dependency_file(self, path: Path, text: str, rule: RequirementRule) -> str:
        name = path.name
        shown = self.migration.relative(path)
        if name == "setup.py":
            return rewrite_setup_py(text, rule)
        if name == "pyproject.toml":
            try:
                result = rewrite_pyproject(text, rule)
            except tomlkit.exceptions.ParseError as exc:
                self.migration.errors.append(f"{shown}:{exc.line}: invalid TOML, left as is: {exc}")
                return text
            self.migration.notes.extend(f"{shown}: {note}" for note in result.notes)
            return result.text
        return rewrite_requirements_txt(text, rule)


def plan_migration(root: Path, python: str) -> Migration:
    """Everything migrating the project at `root` would change; names are checked in `python`."""
    root = root.resolve()
    migration = Migration(root=root)
    planner = _Planner(root, python, migration, ModuleRenamer(own_modules(root)))
    new_python: dict[Path, str] = {}
    dependency_files: list[Path] = []
    readmes: list[Path] = []
    for path in _project_files(root):
        if path.suffix == ".py":
            text = planner.python_file(path)
            if text is not None:
                new_python[path] = text
        # Every project of a workspace has its own pyproject.toml.
        if path.name in ("setup.py", "pyproject.toml") or _REQUIREMENTS_FILE.match(path.name):
            dependency_files.append(path)
        if path.name in _UNREAD_FILES:
            migration.notes.append(f"{migration.relative(path)}: {_UNREAD_FILES[path.name]}")
        # The README of the tree and of each project in it (a folder with a pyproject.toml).
        if _README.match(path.name) and (
            path.parent == root or (path.parent / "pyproject.toml").is_file()
        ):
            readmes.append(path)
    rule = planner.resolve(dependency_files)
    for path in dependency_files:
        if path.suffix == ".py" and path not in new_python:
            continue  # did not parse: already reported
        before = new_python.pop(path, None) or _read(path)
        planner.change(path, _read(path), planner.dependency_file(path, before, rule))
    for path, text in new_python.items():
        planner.change(path, _read(path), text)
    for path in readmes:
        text = _read(path)
        planner.change(path, text, rewrite_readme(text, rule, planner.python_example))
    migration.changes.sort(key=lambda change: change.path)
    migration.missing.sort(key=lambda name: (name.path, name.line))
    return migration

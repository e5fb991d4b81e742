"""Fixtures for authoring tests: real project trees and modules on disk, imported for real.

Importing a user's package leaves entries in `sys.modules` and a folder on `sys.path`. Each
project gets a package name of its own, and the fixture removes both when the test ends, so
tests cannot see each other's code.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

from bakehouse.authoring.definitions_class import Definitions
from bakehouse.authoring.loading import load_from_defs_folder


def line_of(path: Path, marker: str) -> int:
    """The 1-based number of the first line of `path` that contains `marker`."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if marker in line:
            return number
    raise AssertionError(f"{marker!r} is not in {path}")


class Project:
    """A project on disk: ``pyproject.toml``, ``src/<package>/definitions.py`` and ``defs/``."""

    def __init__(self, root: Path, package: str) -> None:
        self.root = root
        self.package = package
        self.src = root / "src"
        self.package_dir = self.src / package
        self.package_dir.mkdir(parents=True)
        (root / "pyproject.toml").write_text(
            textwrap.dedent(
                f"""\
                [project]
                name = "{package}"
                version = "0.1.0"

                [tool.bakehouse]
                directory_type = "project"

                [tool.bakehouse.project]
                root_module = "{package}"
                """
            )
        )
        self.write("__init__.py", "")
        self.write("defs/__init__.py", "")

    def write(self, relative: str, text: str) -> Path:
        """Write `text` (dedented) to ``src/<package>/<relative>``, creating folders."""
        path = self.package_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    def path(self, relative: str) -> Path:
        """The file ``src/<package>/<relative>``."""
        return self.package_dir / relative

    def where(self, relative: str, marker: str) -> str:
        """``file:line`` of the first line of `relative` containing `marker`."""
        path = self.path(relative)
        return f"{path}:{line_of(path, marker)}"

    def load(self) -> Definitions:
        """The project's defs folder, loaded as `load_from_defs_folder` does for users."""
        return load_from_defs_folder(project_root=self.root)

    def import_module(self, relative_module: str) -> ModuleType:
        """Import ``<package>.<relative_module>`` with the project's ``src`` on the path."""
        if str(self.src) not in sys.path:
            sys.path.insert(0, str(self.src))
        return importlib.import_module(f"{self.package}.{relative_module}")


def _forget_package(package: str) -> None:
    for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
        del sys.modules[name]


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    """A fresh project with a package name no other test uses; its imports are undone after."""
    package = f"proj_{uuid.uuid4().hex[:12]}"
    saved_path = list(sys.path)
    made = Project(tmp_path.resolve() / "project", package)
    importlib.invalidate_caches()
    try:
        yield made
    finally:
        sys.path[:] = saved_path
        sys.path_importer_cache.pop(str(made.src), None)
        _forget_package(package)


@pytest.fixture
def write_module(tmp_path: Path) -> Iterator[Callable[..., ModuleType]]:
    """Write a single module file and execute it under a unique name; returns the module.

    The module is never put in `sys.modules` under a name other tests could reach.
    """
    names: list[str] = []

    def write(text: str, filename: str = "user_code.py") -> ModuleType:
        path = tmp_path.resolve() / filename
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        name = f"mod_{uuid.uuid4().hex[:12]}"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses and typing look the module up by name
        names.append(name)
        spec.loader.exec_module(module)
        return module

    yield write
    for name in names:
        sys.modules.pop(name, None)

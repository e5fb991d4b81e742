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

from tests.support.projects import Project


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

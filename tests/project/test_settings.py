"""Settings validation: errors name the key and the file; unknown keys are warnings."""

from __future__ import annotations

from pathlib import Path

import pytest

from bakehouse.errors import ProjectError
from bakehouse.project.settings import read_project, settings_warnings
from tests.support.projects import write_project


def test_a_bad_registry_module_names_the_key_index_and_file(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", "pkg", {})
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'registry_modules = ["pkg.components.*", "a b"]\n')
    with pytest.raises(ProjectError) as err:
        read_project(pyproject)
    assert str(err.value).startswith(
        f"{pyproject}: tool.bakehouse.project.registry_modules[1] must be a module name"
    )


def test_unknown_keys_are_warned_with_the_key_they_look_like(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", "pkg", {})
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace("[tool.bakehouse.project]", "[tool.bakehouse.project]\n"
                                      "defs_modul = 'x'\nautoload_defs = true\npython = 'nowhere'")
    )  # fmt: skip
    warnings = settings_warnings(pyproject)
    assert warnings == [
        f"{pyproject}: tool.bakehouse.project.defs_modul: unknown key, ignored (did you mean "
        "defs_module?)",
        f"{pyproject}: tool.bakehouse.project.python: {root / 'nowhere'} does not exist",
    ]


def test_dg_keys_and_both_tables(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", "pkg", {})
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text()
        + '\n[tool.dg]\ndirectory_type = "project"\n[tool.dg.cli]\nverbose = 1\n'
    )
    assert settings_warnings(pyproject) == [
        f"{pyproject}: both [tool.bakehouse] and [tool.dg] are present; only tool.bakehouse is read"
    ]

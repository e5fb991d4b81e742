"""`[tool.bakehouse.storage] durability`: read from the settings, errors naming file and key, and
the instance the CLI opens commits as it says."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bakehouse.cli.context import open_instance
from bakehouse.errors import ProjectError
from bakehouse.project.settings import settings_warnings
from bakehouse.project.workspace import find_workspace
from tests.support.projects import write_project


def _project(tmp_path: Path, storage: str) -> Path:
    root = write_project(tmp_path / "shop", "st_shop", {})
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n" + textwrap.dedent(storage))
    return root


def test_unset_durability_is_none_and_the_instance_commits_normally(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BAKEHOUSE_STORAGE_URL", raising=False)
    monkeypatch.delenv("BAKEHOUSE_HOME", raising=False)
    workspace = find_workspace(write_project(tmp_path / "shop", "st_shop", {}))
    assert workspace.durability is None
    with open_instance(workspace) as instance:
        assert instance.durability == "normal"


def test_full_durability_reaches_the_instance_and_its_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BAKEHOUSE_STORAGE_URL", raising=False)
    monkeypatch.delenv("BAKEHOUSE_HOME", raising=False)
    root = _project(tmp_path, '[tool.bakehouse.storage]\ndurability = "full"\n')
    workspace = find_workspace(root)
    assert workspace.durability == "full"
    assert settings_warnings(root / "pyproject.toml") == []
    with open_instance(workspace) as instance:
        assert instance.durability == "full"
        # Run workers and step processes open the instance by its URL: it carries the level.
        assert instance.url.endswith("?durability=full")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[tool.bakehouse.storage]\ndurability = "fast"\n', "storage.durability must be"),
        ("[tool.bakehouse.storage]\ndurability = 1\n", "storage.durability must be"),
        ('[tool.bakehouse]\nstorage = "full"\n', "storage must be a table"),
    ],
)
def test_a_bad_durability_names_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    root = write_project(tmp_path / "shop", "st_shop", {})
    pyproject = root / "pyproject.toml"
    if text.startswith("[tool.bakehouse]\n"):
        # A key of the existing [tool.bakehouse] table.
        pyproject.write_text(pyproject.read_text().replace("[tool.bakehouse]\n", text, 1))
    else:
        pyproject.write_text(pyproject.read_text() + "\n" + text)
    with pytest.raises(ProjectError, match=message) as raised:
        find_workspace(root)
    assert str(pyproject) in str(raised.value)


def test_an_unknown_storage_key_is_a_warning(tmp_path: Path) -> None:
    root = _project(tmp_path, '[tool.bakehouse.storage]\ndurabilty = "full"\n')
    warnings = settings_warnings(root / "pyproject.toml")
    assert any("storage.durabilty: unknown key" in w and "durability" in w for w in warnings)

"""Creating projects and workspaces, and listing a new project in its workspace."""

from __future__ import annotations

from pathlib import Path

import pytest

from bakehouse.errors import ScaffoldError
from bakehouse.project.settings import read_project
from bakehouse.project.workspace import find_workspace
from bakehouse.scaffold.project import add_to_workspace, create_project, create_workspace


def test_a_project_has_every_file_and_reads_back(tmp_path: Path) -> None:
    created = create_project("shop", cwd=tmp_path, make_venv=False)
    root = tmp_path / "shop"
    assert created.root == root
    assert {p.relative_to(root).as_posix() for p in created.files} == {
        "pyproject.toml",
        "src/shop/__init__.py",
        "src/shop/definitions.py",
        "src/shop/defs/__init__.py",
        "tests/test_definitions.py",
        "README.md",
        ".gitignore",
    }
    settings = read_project(root / "pyproject.toml")
    assert settings.root_module == "shop"
    assert settings.definitions_module == "shop.definitions"
    assert settings.registry_modules == ("shop.components.*",)
    definitions = (root / "src/shop/definitions.py").read_text()
    assert "@dg.definitions" in definitions
    assert "dg.load_from_defs_folder(project_root=Path(__file__).parent.parent.parent)" in (
        definitions
    )
    assert ".venv/" in (root / ".gitignore").read_text()
    assert created.venv is None


def test_python_version_goes_into_requires_python(tmp_path: Path) -> None:
    create_project("shop", cwd=tmp_path, python="3.12", make_venv=False)
    assert 'requires-python = ">=3.12"' in (tmp_path / "shop/pyproject.toml").read_text()
    with pytest.raises(ScaffoldError, match=r"runs on Python 3\.10 to 3\.13, not 3\.9"):
        create_project("other", cwd=tmp_path, python="3.9", make_venv=False)
    assert not (tmp_path / "other").exists()


def test_a_name_that_is_no_module_and_an_existing_folder_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ScaffoldError, match="invalid project name 'my-shop'"):
        create_project("my-shop", cwd=tmp_path, make_venv=False)
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "keep.txt").write_text("mine")
    with pytest.raises(ScaffoldError, match="already exists"):
        create_project("shop", cwd=tmp_path, make_venv=False)
    assert [p.name for p in (tmp_path / "shop").iterdir()] == ["keep.txt"]


def test_a_project_at_a_workspace_root_goes_to_projects_and_is_listed(tmp_path: Path) -> None:
    create_workspace("lake", cwd=tmp_path)
    workspace = tmp_path / "lake"
    first = create_project("ingest", cwd=workspace, make_venv=False)
    second = create_project("reports", cwd=workspace / "projects", make_venv=False)
    assert first.root == workspace / "projects" / "ingest"
    assert second.root == workspace / "projects" / "reports"
    assert first.workspace_config == workspace / "pyproject.toml"
    found = find_workspace(workspace)
    assert [p.location_name for p in found.projects] == ["ingest", "reports"]
    # Listing again changes nothing.
    add_to_workspace(workspace / "pyproject.toml", first.root)
    assert len(find_workspace(workspace).projects) == 2


def test_a_dg_toml_workspace_gets_its_own_table_name(tmp_path: Path) -> None:
    (tmp_path / "dg.toml").write_text('directory_type = "workspace"\n')
    create_project("ingest", cwd=tmp_path, make_venv=False)
    assert '[[workspace.projects]]\npath = "projects/ingest"' in (tmp_path / "dg.toml").read_text()
    assert [p.location_name for p in find_workspace(tmp_path).projects] == ["ingest"]


def test_a_workspace_list_that_cannot_take_an_entry_is_left_as_it_was(tmp_path: Path) -> None:
    config = tmp_path / "pyproject.toml"
    original = (
        '[tool.bakehouse]\ndirectory_type = "workspace"\n\n'
        "[tool.bakehouse.workspace]\nprojects = []\n"
    )
    config.write_text(original)
    with pytest.raises(ScaffoldError, match="add it by hand"):
        create_project("ingest", cwd=tmp_path, make_venv=False)
    assert config.read_text() == original


def test_no_project_inside_a_project_and_no_workspace_over_a_folder(tmp_path: Path) -> None:
    create_project("shop", cwd=tmp_path, make_venv=False)
    with pytest.raises(ScaffoldError, match="is inside the project"):
        create_project("inner", cwd=tmp_path / "shop" / "src", make_venv=False)
    with pytest.raises(ScaffoldError, match="already exists"):
        create_workspace("shop", cwd=tmp_path)

"""Finding and reading projects and workspaces, from pyproject.toml or dg.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from bakehouse.errors import ProjectError
from bakehouse.project.workspace import find_workspace
from tests.support.projects import write_project, write_workspace


def test_a_project_is_a_workspace_of_one(tmp_path: Path) -> None:
    root = write_project(tmp_path / "solo", "solo_pkg", {})
    ws = find_workspace(root / "src" / "solo_pkg")
    assert ws.is_single_project
    assert [p.location_name for p in ws.projects] == ["solo_pkg"]
    assert ws.projects[0].definitions_module == "solo_pkg.definitions"
    assert ws.projects[0].source_dir == root / "src"
    assert ws.home == root / ".bakehouse"


def test_a_workspace_lists_its_projects_and_reads_their_env_files(tmp_path: Path) -> None:
    a = write_project(tmp_path / "projects" / "a", "pkg_a", {})
    write_project(tmp_path / "projects" / "b", "pkg_b", {})
    (a / ".env").write_text("API_TOKEN=secret\n# comment\nQUOTED='x y'\n")
    write_workspace(tmp_path, ["projects/a", "projects/b"])
    ws = find_workspace(tmp_path / "projects")
    assert not ws.is_single_project
    assert [p.location_name for p in ws.projects] == ["pkg_a", "pkg_b"]
    assert ws.projects[0].env == {"API_TOKEN": "secret", "QUOTED": "x y"}
    assert ws.project("pkg_b").root == tmp_path / "projects" / "b"


def test_a_dg_workspace_and_dg_project_are_read_the_same_way(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", "dg_pkg", {})
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("tool.bakehouse", "tool.dg"))
    (tmp_path / "dg.toml").write_text(
        'directory_type = "workspace"\n\n[[workspace.projects]]\npath = "p"\n'
    )
    ws = find_workspace(tmp_path)
    assert [p.location_name for p in ws.projects] == ["dg_pkg"]
    assert ws.projects[0].tool_table == "tool.dg"


def test_a_missing_project_path_names_the_key_and_file(tmp_path: Path) -> None:
    write_workspace(tmp_path, ["projects/nowhere"])
    with pytest.raises(ProjectError) as info:
        find_workspace(tmp_path)
    message = str(info.value)
    assert str(tmp_path / "pyproject.toml") in message
    assert "tool.bakehouse.workspace.projects[0].path" in message


def test_two_projects_with_one_name_are_refused(tmp_path: Path) -> None:
    write_project(tmp_path / "x", "same_pkg", {})
    write_project(tmp_path / "y", "same_pkg", {})
    write_workspace(tmp_path, ["x", "y"])
    with pytest.raises(ProjectError, match="two projects are named 'same_pkg'"):
        find_workspace(tmp_path)


def test_a_bad_directory_type_is_named(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.bakehouse]\ndirectory_type = "proj"\n')
    with pytest.raises(ProjectError, match='directory_type must be "project" or "workspace"'):
        find_workspace(tmp_path)


def test_inside_a_listed_project_the_workspace_is_found_with_the_project_as_here(
    tmp_path: Path,
) -> None:
    a = write_project(tmp_path / "projects" / "a", "pkg_a", {})
    write_project(tmp_path / "projects" / "b", "pkg_b", {})
    write_workspace(tmp_path, ["projects/a", "projects/b"])
    ws = find_workspace(a / "src" / "pkg_a")
    assert ws.root == tmp_path
    assert ws.home == tmp_path / ".bakehouse"  # the workspace's instance, not a second one
    assert [p.location_name for p in ws.projects] == ["pkg_a", "pkg_b"]
    assert ws.here == "pkg_a"
    mine = ws.only_here()
    assert [p.location_name for p in mine.projects] == ["pkg_a"]
    assert mine.home == tmp_path / ".bakehouse"
    assert find_workspace(tmp_path).here is None
    assert find_workspace(tmp_path).only_here() == find_workspace(tmp_path)


def test_a_project_the_workspace_does_not_list_stands_alone(tmp_path: Path) -> None:
    write_project(tmp_path / "projects" / "a", "pkg_a", {})
    loose = write_project(tmp_path / "projects" / "scratch", "scratch", {})
    write_workspace(tmp_path, ["projects/a"])
    ws = find_workspace(loose)
    assert ws.is_single_project
    assert ws.home == loose / ".bakehouse"
    assert ws.here is None


def test_a_broken_workspace_above_a_member_is_reported_not_skipped(tmp_path: Path) -> None:
    a = write_project(tmp_path / "projects" / "a", "pkg_a", {})
    write_workspace(tmp_path, ["projects/a", "projects/gone"])
    with pytest.raises(ProjectError, match=r"projects\[1\]\.path"):
        find_workspace(a)

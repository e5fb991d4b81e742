"""`DbtProject`: the manifest is parsed by dbt when it is missing or behind the project."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bakehouse.errors import DefinitionError
from bakehouse_dbt import DbtProject
from tests.support.dbt_projects import copy_jaffle_dbt

pytestmark = pytest.mark.usefixtures("dbt_executable")


def test_prepare_if_dev_parses_a_missing_manifest_and_then_only_a_stale_one(
    tmp_path: Path,
) -> None:
    project = DbtProject(copy_jaffle_dbt(tmp_path / "dbt"))
    assert project.profiles_dir == project.project_dir  # it holds profiles.yml
    assert not project.manifest_path.exists()

    project.prepare_if_dev()
    assert project.manifest_path.is_file()
    assert not project.manifest_is_stale()
    built = project.manifest_path.stat().st_mtime_ns

    project.prepare_if_dev()  # nothing changed: dbt is not run again
    assert project.manifest_path.stat().st_mtime_ns == built

    # The manifest made before the model's last edit (moving the manifest back, not the model
    # forward: a file dated in the future would stay newer than any parse).
    model = project.project_dir / "models" / "marts" / "orders.sql"
    earlier = model.stat().st_mtime - 10
    os.utime(project.manifest_path, (earlier, earlier))
    built = project.manifest_path.stat().st_mtime_ns
    assert project.manifest_is_stale()
    project.prepare_if_dev()
    assert project.manifest_path.stat().st_mtime_ns != built
    assert not project.manifest_is_stale()


def test_a_folder_without_dbt_project_yml_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match=r"holds no dbt_project\.yml"):
        DbtProject(tmp_path)


def test_a_model_dbt_cannot_parse_fails_the_load_with_dbts_message(tmp_path: Path) -> None:
    project = DbtProject(copy_jaffle_dbt(tmp_path / "dbt"))
    (project.project_dir / "models" / "broken.sql").write_text(
        "select * from {{ ref('no_such_model') }}\n", encoding="utf-8"
    )
    with pytest.raises(DefinitionError, match="no_such_model") as raised:
        project.prepare_if_dev()
    assert "dbt parse failed" in str(raised.value)

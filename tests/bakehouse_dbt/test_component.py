"""`DbtProjectComponent` in a ``defs.yaml``, and ``bh scaffold defs dbt_project`` writing one
for an existing dbt project."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import bakehouse as dg
from bakehouse.errors import DefinitionError, SourceLocation
from tests.support.dbt_projects import copy_jaffle_dbt
from tests.support.faults import bh
from tests.support.projects import Project, line_of, write_project

pytestmark = pytest.mark.usefixtures("dbt_executable")


@pytest.mark.slow  # parses the dbt project
def test_the_component_loads_models_with_its_translation_templates(
    project: Project, parsed_jaffle: Path
) -> None:
    shutil.copytree(parsed_jaffle, project.root / "dbt")
    project.write(
        "defs/transform/defs.yaml",
        """
        type: bakehouse_dbt.DbtProjectComponent
        attributes:
          project: "{{ project_root }}/dbt"
          exclude: "resource_type:snapshot"
          translation:
            key_prefix: [warehouse]
            group_name: "{{ node.fqn[1] if node.fqn | length > 2 else 'seeds' }}"
        """,
    )
    defs = project.load()
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"warehouse/orders", "warehouse/stg_orders", "warehouse/payment_methods"} <= keys
    assert "warehouse/customers_snapshot" not in keys
    assert "warehouse/raw/orders" in keys  # the source, an external asset
    (assets_def,) = [a for a in defs.assets if isinstance(a, dg.AssetsDefinition)]
    groups = assets_def.group_names_by_key
    assert groups[dg.AssetKey(["warehouse", "orders"])] == "marts"
    assert groups[dg.AssetKey(["warehouse", "payment_methods"])] == "seeds"
    assert assets_def.op_name == "dbt_assets"
    assert assets_def.source is not None
    assert assets_def.source.file.endswith("defs.yaml")
    assert len(assets_def.check_specs) == 13


def test_a_folder_without_a_dbt_project_is_an_error_at_its_line(project: Project) -> None:
    defs_yaml = project.write(
        "defs/transform/defs.yaml",
        """
        type: bakehouse_dbt.DbtProjectComponent
        attributes:
          project: no_such_folder
        """,
    )
    with pytest.raises(DefinitionError, match=r"holds no dbt_project\.yml") as err:
        project.load()
    assert err.value.source == SourceLocation(str(defs_yaml), line_of(defs_yaml, "project:"))


def test_scaffold_wires_an_existing_dbt_project(tmp_path: Path) -> None:
    root = write_project(tmp_path / "shop", "shop", {})
    copy_jaffle_dbt(root / "analytics_dbt")

    missing = bh("scaffold", "defs", "dbt_project", "transform", cwd=root)
    assert missing.returncode != 0
    assert "--project-path" in missing.stderr
    wrong = bh("scaffold", "defs", "dbt_project", "transform", "--project-path", "src", cwd=root)
    assert wrong.returncode != 0
    assert "holds no dbt_project.yml" in wrong.stderr

    done = bh(
        "scaffold", "defs", "dbt_project", "transform", "--project-path", "analytics_dbt", cwd=root
    )
    assert done.returncode == 0, done.stderr
    written = (root / "src" / "shop" / "defs" / "transform" / "defs.yaml").read_text()
    assert "type: bakehouse_dbt.DbtProjectComponent" in written
    assert "project: '{{ project_root }}/analytics_dbt'" in written

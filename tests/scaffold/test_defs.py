"""`bh scaffold defs` writing: under the defs folder only, never over a file, packages made."""

from __future__ import annotations

from pathlib import Path

import pytest

from bakehouse.errors import ScaffoldError
from bakehouse.project.settings import ProjectSettings, read_project
from bakehouse.scaffold.defs import (
    covered_by_registry,
    python_kind,
    scaffold_component_instance,
    scaffold_component_type,
    scaffold_python_defs,
)
from tests.scaffold.conftest import Project


def settings(project: Project) -> ProjectSettings:
    return read_project(project.root / "pyproject.toml")


def test_an_asset_is_written_with_its_packages(project: Project) -> None:
    result = scaffold_python_defs(settings(project), "asset", "raw/orders.py", force=False)
    defs = project.path("defs")
    assert result.written == [defs / "raw" / "__init__.py", defs / "raw" / "orders.py"]
    text = (defs / "raw" / "orders.py").read_text()
    assert "def orders(" in text
    assert 'group_name="raw"' in text
    keys = {k.to_user_string() for a in project.load().assets for k in a.keys}  # type: ignore[union-attr]
    assert keys == {"orders"}


def test_the_py_suffix_is_optional_and_dagster_kind_names_work(project: Project) -> None:
    scaffold_python_defs(settings(project), "dagster.asset", "orders", force=False)
    assert project.path("defs/orders.py").is_file()
    assert python_kind("bakehouse.resources") == "resource"
    assert python_kind("bakehouse.SqlFolderComponent") is None


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("../outside.py", "leaves the defs folder ('..' is not allowed)"),
        ("raw/../../outside.py", "leaves the defs folder"),
        ("/tmp/abs.py", "is an absolute path"),
        ("~/home.py", "is an absolute path"),
        ("", "give a path inside the defs folder"),
        ("my-assets/orders.py", "folder 'my-assets' is not a Python package name"),
        ("2nd.py", "'2nd' is not a Python module name"),
        ("orders.txt", "is a Python file; name it like x.py"),
    ],
)
def test_paths_that_would_not_load_or_leave_defs_are_refused(
    project: Project, path: str, reason: str
) -> None:
    with pytest.raises(ScaffoldError) as err:
        scaffold_python_defs(settings(project), "asset", path, force=False)
    assert reason in str(err.value)
    assert not (project.root.parent / "outside.py").exists()


def test_a_symlink_out_of_defs_is_refused(project: Project, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    project.path("defs/link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ScaffoldError, match="outside the defs folder"):
        scaffold_python_defs(settings(project), "asset", "link/orders.py", force=False)
    assert not any(outside.iterdir())


def test_an_existing_file_is_kept_unless_forced(project: Project) -> None:
    existing = project.write("defs/orders.py", "# mine\n")
    with pytest.raises(ScaffoldError, match="already exists; use --force"):
        scaffold_python_defs(settings(project), "asset", "orders.py", force=False)
    assert existing.read_text() == "# mine\n"
    scaffold_python_defs(settings(project), "asset", "orders.py", force=True)
    assert "def orders(" in existing.read_text()


def test_a_module_inside_a_component_instance_is_refused(project: Project) -> None:
    project.write("defs/warehouse/defs.yaml", "type: bakehouse.SqlFolderComponent\n")
    with pytest.raises(ScaffoldError, match="is a component instance"):
        scaffold_python_defs(settings(project), "asset", "warehouse/orders.py", force=False)


def test_an_asset_check_is_written_for_the_asset_named(project: Project) -> None:
    result = scaffold_python_defs(
        settings(project), "asset_check", "quality/orders_ok.py", force=False, asset="raw/orders"
    )
    written = project.path("defs/quality/orders_ok.py")
    assert result.written[-1] == written
    text = written.read_text()
    assert '@dg.asset_check(asset="raw/orders"' in text
    # The checked asset's value arrives in a parameter named after it.
    assert "def orders_ok(orders: Any) -> dg.AssetCheckResult:" in text


def test_a_component_instance_folder_gets_its_files(project: Project) -> None:
    files = {"defs.yaml": "type: bakehouse.ScriptComponent\n", "run.py": "print(1)\n"}
    result = scaffold_component_instance(
        settings(project), "bakehouse.ScriptComponent", "tools/job", force=False, files=files
    )
    folder = project.path("defs/tools/job")
    assert result.written == [project.path("defs/tools/__init__.py"), folder / "defs.yaml",
                              folder / "run.py"]  # fmt: skip
    with pytest.raises(ScaffoldError, match="already exists; use --force"):
        scaffold_component_instance(
            settings(project), "bakehouse.ScriptComponent", "tools/job", force=False, files=files
        )


@pytest.mark.parametrize(
    ("path", "files", "reason"),
    [
        ("job.py", {"defs.yaml": ""}, "a component instance is a folder"),
        ("../job", {"defs.yaml": ""}, "leaves the defs folder"),
        ("__job", {"defs.yaml": ""}, "is not loaded"),
        ("job", {"../escape.py": ""}, "leaves the defs folder"),
    ],
)
def test_bad_instance_paths_are_refused(
    project: Project, path: str, files: dict[str, str], reason: str
) -> None:
    with pytest.raises(ScaffoldError) as err:
        scaffold_component_instance(settings(project), "T", path, force=False, files=files)
    assert reason in str(err.value)


def test_a_folder_of_modules_is_not_turned_into_an_instance(project: Project) -> None:
    project.write("defs/assets/orders.py", "")
    with pytest.raises(ScaffoldError, match="holds Python modules"):
        scaffold_component_instance(
            settings(project), "T", "assets", force=False, files={"defs.yaml": ""}
        )


def test_a_component_type_goes_to_the_components_package(project: Project) -> None:
    result = scaffold_component_type(settings(project), "WeatherApi", force=False)
    components = project.path("components")
    assert result.written == [components / "__init__.py", components / "weather_api.py"]
    assert (
        "class WeatherApi(dg.Component, dg.Model, dg.Resolvable):"
        in (components / "weather_api.py").read_text()
    )
    # The test project lists no registry_modules: the user is told what to add.
    assert any("registry_modules" in note for note in result.notes)
    with pytest.raises(ScaffoldError, match="already exists"):
        scaffold_component_type(settings(project), "WeatherApi", force=False)


def test_registry_coverage() -> None:
    assert covered_by_registry("p.components.x", ("p.components.*",))
    assert covered_by_registry("p.components.x", ("p.components.x",))
    assert not covered_by_registry("p.components.x", ("q.*", "p.components"))

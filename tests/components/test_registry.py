"""Component types: bakehouse's own, those of registry_modules, and how defs.yaml names them."""

from __future__ import annotations

import pytest

from bakehouse.components.registry import builtin_types, registry_types, resolve_type, type_name
from bakehouse.components.script import ScriptComponent
from bakehouse.components.sql_folder import SqlFolderComponent
from bakehouse.errors import DefinitionError, SourceLocation
from tests.components.conftest import Project

TYPES = """
import bakehouse as dg
from bakehouse.components import SqlFolderComponent  # re-exported: not this module's type


class Alpha(dg.Component):
    def build_defs(self, context):
        return dg.Definitions()


class Beta(dg.Component, dg.Model):
    def build_defs(self, context):
        return dg.Definitions()
"""
WHERE = SourceLocation("defs.yaml", 1)


def test_builtin_types_have_short_names() -> None:
    assert [t.name for t in builtin_types()] == [
        "bakehouse.SqlFolderComponent",
        "bakehouse.ScriptComponent",
    ]
    assert type_name(SqlFolderComponent) == "bakehouse.SqlFolderComponent"
    for name in ("bakehouse.SqlFolderComponent", "SqlFolderComponent",
                 "bakehouse.components.sql_folder.SqlFolderComponent"):  # fmt: skip
        assert resolve_type(name, registry_modules=(), source=WHERE) is SqlFolderComponent
    assert resolve_type("ScriptComponent", registry_modules=(), source=WHERE) is ScriptComponent


def test_registry_modules_walk_a_package_and_list_only_its_own_types(project: Project) -> None:
    project.write("components/__init__.py", "")
    project.write("components/nested/__init__.py", "")
    project.write("components/nested/types.py", TYPES)
    project.import_module("components")  # puts src on sys.path
    found = registry_types([f"{project.package}.components.*", "missing_package.*"])
    assert [t.name for t in found] == [
        f"{project.package}.components.nested.types.Alpha",
        f"{project.package}.components.nested.types.Beta",
    ]
    cls = resolve_type("Beta", registry_modules=[f"{project.package}.components.*"], source=WHERE)
    assert cls.__name__ == "Beta"


def test_a_bare_name_two_modules_define_is_ambiguous(project: Project) -> None:
    project.write("components/__init__.py", "")
    project.write("components/one.py", TYPES)
    project.write("components/two.py", TYPES)
    project.import_module("components")
    with pytest.raises(DefinitionError) as err:
        resolve_type("Alpha", registry_modules=[f"{project.package}.components.*"], source=WHERE)
    assert "ambiguous" in str(err.value)
    assert err.value.source == WHERE


def test_an_error_in_a_component_module_names_its_line(project: Project) -> None:
    project.write("components/__init__.py", "")
    broken = project.write("components/broken.py", "import bakehouse as dg\n\nx = 1 / 0\n")
    project.import_module("components")
    with pytest.raises(DefinitionError) as err:
        registry_types([f"{project.package}.components.*"])
    assert err.value.source == SourceLocation(str(broken), 3)
    assert "ZeroDivisionError" in str(err.value)

"""A folder holding defs.yaml loads through its component type; errors name the YAML line."""

from __future__ import annotations

import pytest

from bakehouse.authoring.assets import AssetsDefinition
from bakehouse.errors import DefinitionError, SourceLocation
from tests.components.conftest import Project, add_registry
from tests.support.projects import line_of

GREETING = '''
import bakehouse as dg


class Greeting(dg.Component, dg.Model, dg.Resolvable):
    """Says hello to someone."""

    name: str
    """Who is greeted."""

    times: int = 1

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        text = " ".join([f"hello {self.name}"] * self.times)

        @dg.asset(key=f"greeting_{self.name}")
        def greeting() -> str:
            return text

        return dg.Definitions(assets=[greeting])
'''


def keys(project: Project) -> set[str]:
    return {k.to_user_string() for a in project.load().assets for k in getattr(a, "keys", [])}


def test_a_project_component_type_builds_its_assets(project: Project) -> None:
    project.write("components/greeting.py", GREETING)
    project.write(
        "defs/hello/defs.yaml",
        f"type: {project.package}.components.greeting.Greeting\nattributes:\n  name: ann\n",
    )
    project.write(
        "defs/plain.py", "import bakehouse as dg\n\n@dg.asset\ndef plain():\n    return 1\n"
    )
    assert keys(project) == {"greeting_ann", "plain"}


def test_several_documents_are_several_instances(project: Project) -> None:
    project.write("components/greeting.py", GREETING)
    kind = f"{project.package}.components.greeting.Greeting"
    project.write(
        "defs/hello/defs.yaml",
        f"type: {kind}\nattributes:\n  name: ann\n---\ntype: {kind}\nattributes:\n  name: bob\n",
    )
    assert keys(project) == {"greeting_ann", "greeting_bob"}


def test_a_bare_class_name_is_found_through_registry_modules(project: Project) -> None:
    project.write("components/__init__.py", "")
    project.write("components/greeting.py", GREETING)
    add_registry(project, f"{project.package}.components.*")
    project.write("defs/hello/defs.yaml", "type: Greeting\nattributes:\n  name: ann\n")
    assert keys(project) == {"greeting_ann"}


def test_python_files_of_a_component_folder_are_not_imported(project: Project) -> None:
    project.write("components/greeting.py", GREETING)
    project.write(
        "defs/hello/defs.yaml",
        f"type: {project.package}.components.greeting.Greeting\nattributes:\n  name: ann\n",
    )
    project.write("defs/hello/script.py", "raise SystemExit('a script, not a defs module')\n")
    assert keys(project) == {"greeting_ann"}


def test_a_bad_attribute_names_the_yaml_file_and_line(project: Project) -> None:
    project.write("components/greeting.py", GREETING)
    yaml = project.write(
        "defs/hello/defs.yaml",
        f"type: {project.package}.components.greeting.Greeting\n"
        "attributes:\n  name: ann\n  times: many\n  colour: red\n",
    )
    with pytest.raises(DefinitionError) as err:
        project.load()
    assert err.value.source == SourceLocation(str(yaml), 4)
    message = str(err.value)
    assert message.startswith(f"{yaml}:4: attributes.times: Input should be a valid integer")
    assert "(got 'many')" in message
    assert f"{yaml}:5: attributes.colour: unknown attribute for Greeting" in message


def test_a_missing_required_attribute_points_at_attributes(project: Project) -> None:
    project.write("components/greeting.py", GREETING)
    yaml = project.write(
        "defs/hello/defs.yaml",
        f"type: {project.package}.components.greeting.Greeting\nattributes:\n  times: 2\n",
    )
    with pytest.raises(DefinitionError) as err:
        project.load()
    assert err.value.source == SourceLocation(str(yaml), 2)
    assert "attributes.name: Field required" in str(err.value)


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        ("type: nowhere.Thing\n", 1, "unknown component type 'nowhere.Thing'"),
        ("type: bakehouse.Definitions\n", 1, "is not a component type"),
        ("type: NoSuchComponent\n", 1, "Known types: bakehouse.SqlFolderComponent"),
        ("attributes: {}\n", 1, "missing 'type:'"),
        ("type: bakehouse.ScriptComponent\nrequirements: {}\n", 2, "'requirements' is not"),
        ("type: bakehouse.ScriptComponent\nextra: 1\n", 2, "unknown key 'extra'"),
        ("type: bakehouse.ScriptComponent\nattributes: [1]\n", 2, "must be a mapping"),
        ("- a list\n", 1, "a component is a mapping"),
        ("", 1, "defs.yaml is empty"),
        (
            "type: bakehouse.ScriptComponent\nattributes:\n  command: echo\n"
            "  env:\n    A: '{{ env.BAKEHOUSE_TEST_SURELY_UNSET }}'\n",
            5,
            "attributes.env.A: environment variable BAKEHOUSE_TEST_SURELY_UNSET is not set",
        ),
        (
            "type: bakehouse.ScriptComponent\nattributes:\n  command: 'echo {{ nonsense }}'\n",
            3,
            "unknown template {{ nonsense }}",
        ),
    ],
)
def test_what_is_wrong_in_defs_yaml_is_named_at_its_line(
    project: Project, text: str, line: int, expected: str
) -> None:
    yaml = project.write("defs/thing/defs.yaml", text or "\n")
    with pytest.raises(DefinitionError) as err:
        project.load()
    assert err.value.source == SourceLocation(str(yaml), line)
    assert expected in str(err.value)


def test_an_error_in_build_defs_names_the_users_line(project: Project) -> None:
    source = project.write(
        "components/broken.py",
        """
        import bakehouse as dg


        class Broken(dg.Component, dg.Model):
            def build_defs(self, context):
                return {}["missing"]
        """,
    )
    project.write("defs/b/defs.yaml", f"type: {project.package}.components.broken.Broken\n")
    with pytest.raises(DefinitionError) as err:
        project.load()
    assert err.value.source == SourceLocation(str(source), line_of(source, '["missing"]'))
    assert "building the definitions of Broken" in str(err.value)


def test_templates_expand_project_root_and_env(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BAKEHOUSE_TEST_GREETING", "hi")
    project.write(
        "defs/run/defs.yaml",
        "type: bakehouse.ScriptComponent\nattributes:\n"
        "  command: 'echo {{ env.BAKEHOUSE_TEST_GREETING }}'\n"
        "  working_dir: '{{ project_root }}'\n",
    )
    (assets_def,) = project.load().assets
    assert isinstance(assets_def, AssetsDefinition)
    assert assets_def.specs[0].metadata["command"] == "echo hi"
    assert assets_def.specs[0].metadata["working_dir"] == str(project.root)

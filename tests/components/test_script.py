"""`ScriptComponent`: a script or command as an asset, its output kept, its exit code checked."""

from __future__ import annotations

import pytest

import bakehouse as dg
from bakehouse.components.script import ScriptError
from bakehouse.errors import DefinitionError, SourceLocation
from tests.components.conftest import Project


def instance(project: Project, attributes: str, **files: str) -> None:
    for name, text in files.items():
        project.write(f"defs/job/{name}", text)
    project.write(
        "defs/job/defs.yaml", "type: bakehouse.ScriptComponent\nattributes:\n" + attributes
    )


def test_a_python_script_runs_with_env_and_args_and_its_output_is_kept(project: Project) -> None:
    instance(
        project,
        "  script: run.py\n  args: [one, two]\n  env:\n    WHO: world\n"
        "  asset_key: reports/daily\n",
        **{
            "run.py": "import os, sys\nprint('hello', os.environ['WHO'], sys.argv[1:])\n"
            "print('key', os.environ['BAKEHOUSE_ASSET_KEY'])\n"
        },
    )
    (assets_def,) = project.load().assets
    assert isinstance(assets_def, dg.AssetsDefinition)
    assert assets_def.specs[0].kinds == {"python"}
    assert assets_def.specs[0].source == SourceLocation(str(project.path("defs/job/run.py")), 1)
    result = dg.materialize([assets_def])
    metadata = result.metadata_for("reports/daily")
    assert metadata["exit_code"]["value"] == 0
    assert "hello world ['one', 'two']" in metadata["output"]["value"]
    assert "key reports/daily" in metadata["output"]["value"]


def test_a_shell_command_runs_in_the_working_dir(project: Project) -> None:
    instance(project, "  command: 'pwd && ls'\n  working_dir: '{{ project_root }}'\n")
    result = dg.materialize(project.load().assets)
    output = result.metadata_for("job")["output"]["value"]
    assert str(project.root) in output
    assert "pyproject.toml" in output


def test_a_non_zero_exit_fails_the_step_with_the_output(project: Project) -> None:
    instance(project, "  command: [sh, -c, 'echo about to fail; exit 3']\n")
    with pytest.raises(ScriptError) as err:
        dg.materialize(project.load().assets)
    assert err.value.exit_code == 3
    assert "exited with code 3" in str(err.value)
    assert "about to fail" in str(err.value)


def test_a_script_past_its_timeout_is_stopped(project: Project) -> None:
    instance(project, "  command: 'sleep 30'\n  timeout_seconds: 0.5\n")
    with pytest.raises(ScriptError) as err:
        dg.materialize(project.load().assets)
    assert "stopped after 0.5 s" in str(err.value)


@pytest.mark.parametrize(
    ("attributes", "line", "expected"),
    [
        ("  script: run.py\n  command: ls\n", 2, "give exactly one of 'script' or 'command'"),
        ("  asset_key: x\n", 2, "give exactly one of 'script' or 'command'"),
        ("  script: missing.py\n", 3, "missing.py does not exist"),
        ("  command: ls\n  working_dir: nowhere\n", 4, "is not a folder"),
        ("  command: ls\n  timeout_seconds: -1\n", 4, "greater than 0"),
    ],
)
def test_bad_attributes_are_named_at_their_line(
    project: Project, attributes: str, line: int, expected: str
) -> None:
    instance(project, attributes, **{"run.py": "print(1)\n"})
    with pytest.raises(DefinitionError) as err:
        project.load()
    assert err.value.source == SourceLocation(str(project.path("defs/job/defs.yaml")), line)
    assert expected in str(err.value)

"""`python -m bakehouse.components.describe`: types and new-instance files, as JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bakehouse.components.describe import attributes_of, defs_yaml, scaffold_files
from bakehouse.components.script import ScriptComponent
from bakehouse.components.sql_folder import SqlFolderComponent


def test_attributes_carry_defaults_and_descriptions() -> None:
    by_name = {a.name: a for a in attributes_of(SqlFolderComponent)}
    assert by_name["sql_folder"].default == "."
    assert by_name["preview_rows"].default == 10
    assert by_name["key_prefix"].default == []
    assert "DuckDB" in by_name["database"].description
    assert not any(a.required for a in by_name.values())


def test_a_new_instance_yaml_is_commented_and_valid() -> None:
    text = defs_yaml(ScriptComponent)
    assert text.startswith("# Runs a Python or shell script")
    assert "  # Stop the script and fail the step after this many seconds.\n" in text
    assert "  # output_lines: 40\n" in text  # defaults are shown, commented out
    document = yaml.safe_load(text)
    assert document["type"] == "bakehouse.ScriptComponent"
    assert document["attributes"] == {"script": "run.py", "env": {"GREETING": "hello"}}
    assert set(scaffold_files(ScriptComponent)) == {"defs.yaml", "run.py"}


@pytest.mark.slow
def test_the_entry_point_answers_in_its_out_file(tmp_path: Path) -> None:
    out = tmp_path / "answer.json"
    command = [sys.executable, "-m", "bakehouse.components.describe", "list", "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    names = [t["name"] for t in json.loads(out.read_text())["types"]]
    assert names == ["bakehouse.SqlFolderComponent", "bakehouse.ScriptComponent"]
    command[3:4] = ["scaffold", "NoSuchType"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert "unknown component type 'NoSuchType'" in json.loads(out.read_text())["error"]["message"]

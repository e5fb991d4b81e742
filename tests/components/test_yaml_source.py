"""`parse_yaml_documents`: values with the line each was written on."""

from __future__ import annotations

from pathlib import Path

import pytest

from bakehouse.components.yaml_source import parse_yaml_documents
from bakehouse.errors import DefinitionError, SourceLocation


def test_each_value_keeps_its_line_and_documents_are_split(tmp_path: Path) -> None:
    file = tmp_path / "defs.yaml"
    file.write_text(
        "type: a.B\nattributes:\n  name: x\n  items:\n    - one\n    - size: 3\n---\ntype: c.D\n"
    )
    first, second = parse_yaml_documents(file)
    assert first.value == {
        "type": "a.B",
        "attributes": {"name": "x", "items": ["one", {"size": 3}]},
    }
    assert first.line_of(("attributes", "name")) == 3
    assert first.line_of(("attributes", "items", 1, "size")) == 6
    # A path the file does not hold is reported at its nearest parent.
    assert first.line_of(("attributes", "missing")) == 2
    assert second.source(("type",)) == SourceLocation(str(file), 8)


def test_a_syntax_error_names_its_line(tmp_path: Path) -> None:
    file = tmp_path / "defs.yaml"
    file.write_text("type: a.B\nattributes:\n  name: [1, 2\n")
    with pytest.raises(DefinitionError) as err:
        parse_yaml_documents(file)
    assert err.value.source is not None
    assert err.value.source.file == str(file)
    assert "invalid YAML" in str(err.value)


def test_a_key_written_twice_is_refused_at_the_second(tmp_path: Path) -> None:
    file = tmp_path / "defs.yaml"
    file.write_text("type: a.B\nattributes:\n  name: x\n  name: y\n")
    with pytest.raises(DefinitionError) as err:
        parse_yaml_documents(file)
    assert err.value.source == SourceLocation(str(file), 4)
    assert "'name' appears twice" in str(err.value)

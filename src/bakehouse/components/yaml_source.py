"""Parse a ``defs.yaml`` file into plain values, remembering the line of every value.

Errors found later (an unknown component type, an attribute a pydantic model refuses) are
reported at the line where the user wrote the value, so each document keeps a map from a value's
path (``("attributes", "tables", 0)``) to its line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bakehouse.errors import DefinitionError, SourceLocation

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class YamlDocument:
    """One document of a YAML file: its value and the 1-based line of each value in it."""

    file: Path
    value: Any
    lines: dict[PathKey, int] = field(default_factory=dict)

    def line_of(self, path: Sequence[str | int]) -> int:
        """The line of the value at `path`, or of its nearest parent that the file holds."""
        key = tuple(path)
        while key not in self.lines and key:
            key = key[:-1]
        return self.lines.get(key, 1)

    def source(self, path: Sequence[str | int] = ()) -> SourceLocation:
        """`file:line` of the value at `path`."""
        return SourceLocation(str(self.file), self.line_of(path))


def parse_yaml_documents(file: Path) -> list[YamlDocument]:
    """Every document in `file`; a syntax error is a `DefinitionError` at its line."""
    import yaml

    text = file.read_text(encoding="utf-8")
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise DefinitionError(
            f"invalid YAML: {exc.problem or exc}", source=SourceLocation(str(file), line)
        ) from None
    documents = []
    loader = yaml.SafeLoader("")  # only its constructors for scalars are used
    try:
        for node in nodes:
            if node is not None:
                walk = _Walk(loader, file)
                value = walk.to_python(node, ())
                documents.append(YamlDocument(file=file, value=value, lines=walk.lines))
    finally:
        loader.dispose()
    return documents


class _Walk:
    """Turns composed YAML nodes into Python values, noting each value's line."""

    def __init__(self, loader: Any, file: Path) -> None:
        self.loader = loader
        self.file = file
        self.lines: dict[PathKey, int] = {}

    def _error(self, message: str, node: Any) -> DefinitionError:
        return DefinitionError(
            message, source=SourceLocation(str(self.file), node.start_mark.line + 1)
        )

    def to_python(self, node: Any, path: PathKey) -> Any:
        import yaml

        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise self._error("YAML keys must be plain words", key_node)
                name = str(self.loader.construct_object(key_node, deep=True))
                if name == "<<":
                    raise self._error("YAML merge keys (<<) are not supported here", key_node)
                if name in result:
                    raise self._error(f"key '{name}' appears twice", key_node)
                # An entry is reported at its key's line, where the user reads "name: value".
                entry: PathKey = (*path, name)
                self.lines[entry] = key_node.start_mark.line + 1
                result[name] = self.to_python(value_node, entry)
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.to_python(item, (*path, i)) for i, item in enumerate(node.value)]
        return self.loader.construct_object(node, deep=True)

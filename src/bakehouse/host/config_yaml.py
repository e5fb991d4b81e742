"""Run config as YAML for people: scaffolded from the steps' config schemas, parsed, and each
problem placed on the line of the YAML it is about.

The launchpad's editor holds YAML; the run stores the parsed mapping. A scaffold lists every
field of each step's `Config` with its default, or empty (so validation names it) when it is
required, and a comment with its type and description.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from bakehouse.host.run_config import Path

__all__ = ["ParsedYaml", "dump", "line_of", "parse", "scaffold"]


@dataclass(frozen=True)
class ParsedYaml:
    """The value of a YAML text, or why it does not parse and on which line (1-based)."""

    value: Any = None
    error: str | None = None
    line: int | None = None


def parse(text: str) -> ParsedYaml:
    """The value of `text` (an empty text is ``{}``), or the YAML error with its line."""
    if not text.strip():
        return ParsedYaml(value={})
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        return ParsedYaml(
            error=f"not valid YAML: {problem}", line=mark.line + 1 if mark is not None else None
        )
    return ParsedYaml(value={} if value is None else value)


def line_of(text: str, path: Path) -> int:
    """The line (1-based) of the entry `path` leads to in `text`, or of the deepest entry on
    the way that exists (a missing field points at its mapping); 1 when nothing does."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return 1
    if node is None:
        return 1
    line = node.start_mark.line + 1
    for step in path:
        found: tuple[yaml.Node, yaml.Node] | None = None
        if isinstance(node, yaml.MappingNode):
            found = next(
                ((k, v) for k, v in node.value if _scalar(k) == str(step)),
                None,
            )
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(step, int)
            and 0 <= step < len(node.value)
        ):
            found = (node.value[step], node.value[step])
        if found is None:
            break
        key, node = found
        line = key.start_mark.line + 1
    return line


def _scalar(node: yaml.Node) -> str | None:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else None


def dump(config: Mapping[str, Any]) -> str:
    """`config` as block-style YAML, in its own key order ("" when empty)."""
    if not config:
        return ""
    return yaml.safe_dump(dict(config), sort_keys=False, default_flow_style=False)


def scaffold(
    schemas: Mapping[str, Mapping[str, Any]], base: Mapping[str, Any] | None = None
) -> str:
    """YAML run config giving each step of `schemas` (step name: JSON schema of its Config)
    every field; `base` (a job's default config) is written first and wins where it has a
    value."""
    if base:
        text = dump(base)
        missing = {s: v for s, v in schemas.items() if s not in base.get("ops", {})}
        if not missing:
            return text
        return (
            text.rstrip("\n")
            + "\n# Config of assets the job's default leaves out:\n"
            + (
                _ops_yaml(missing, indent="  ", header=False)
                if "ops" in base
                else _ops_yaml(missing, indent="  ", header=True)
            )
        )
    if not schemas:
        return ""
    return _ops_yaml(schemas, indent="  ", header=True)


def _ops_yaml(schemas: Mapping[str, Mapping[str, Any]], indent: str, header: bool) -> str:
    lines = ["ops:"] if header else []
    for step, schema in schemas.items():
        lines.append(f"{indent}{_key(step)}:")
        lines.append(f"{indent * 2}config:")
        body = _fields(schema, schema, indent * 3)
        lines.extend(body or [f"{indent * 3}{{}}"])
    return "\n".join(lines) + "\n"


def _fields(schema: Mapping[str, Any], root: Mapping[str, Any], indent: str) -> list[str]:
    schema = _resolved(schema, root)
    properties: Mapping[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", ()))
    lines: list[str] = []
    for name, field in properties.items():
        resolved = _resolved(field, root)
        note = _note(resolved, name in required and "default" not in field)
        if "default" in field:
            lines.append(f"{indent}{_key(name)}: {_flow(field['default'])}{note}")
        elif name in required and resolved.get("type") == "object" and resolved.get("properties"):
            lines.append(f"{indent}{_key(name)}:{note}")
            lines.extend(_fields(resolved, root, indent + "  "))
        else:
            # Left empty: the editor's check names it until a value is typed.
            lines.append(f"{indent}{_key(name)}:{note}")
    return lines


def _resolved(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        found: Mapping[str, Any] = root.get("$defs", {}).get(ref.removeprefix("#/$defs/"), {})
        return found
    return schema


def _note(schema: Mapping[str, Any], required: bool) -> str:
    kind = schema.get("type")
    if kind is None and "anyOf" in schema:
        kinds = [o.get("type") for o in schema["anyOf"] if isinstance(o, Mapping)]
        kind = " or ".join(k for k in kinds if isinstance(k, str)) or None
    if "enum" in schema:
        kind = "one of " + ", ".join(json.dumps(v) for v in schema["enum"])
    words = [w for w in (("required" if required else None), kind) if w]
    description = schema.get("description")
    if isinstance(description, str) and description.strip():
        words.append(description.strip().splitlines()[0])
    return "  # " + "; ".join(words) if words else ""


def _flow(value: Any) -> str:
    """`value` as one line of YAML (JSON is YAML's flow style)."""
    return json.dumps(value, ensure_ascii=False)


def _key(name: str) -> str:
    """`name` as a YAML mapping key, quoted when YAML would read it otherwise."""
    try:
        loaded = yaml.safe_load(f"{name}: 1") if name and name.strip() == name else None
    except yaml.YAMLError:
        loaded = None
    if isinstance(loaded, dict) and list(loaded) == [name]:
        return name
    return json.dumps(name)

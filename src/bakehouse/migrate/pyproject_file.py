"""Rewrite a ``pyproject.toml``: Dagster's settings tables to bakehouse's, and its dependencies.

tomlkit edits the document in place, so comments, ordering and the user's layout survive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import tomlkit
from tomlkit.items import Array, Table

from bakehouse.migrate.requirements import RequirementRule


@dataclass
class TomlResult:
    """The new text of the file and what the user should know about what was not moved."""

    text: str
    notes: list[str] = field(default_factory=list)


# [tool.dagster] keys (the pre-`dg` layout) and where their meaning lives in [tool.bakehouse].
_DAGSTER_PROJECT_KEYS = {
    "module_name": "code_location_target_module",
    "code_location_name": "code_location_name",
}


def _rewrite_requirements(array: Any, rule: RequirementRule, where: str, notes: list[str]) -> None:
    if not isinstance(array, Array):
        return
    values = [str(item) for item in array]
    converted = rule.convert_all(values)
    # Backwards, so that deleting keeps the indexes of what is still to visit.
    for index in range(len(values) - 1, -1, -1):
        new = converted[index]
        if new is None:
            del array[index]
        elif new != values[index]:
            array[index] = new
        elif rule.kept(values[index]):
            notes.append(f"{where}: {values[index]!r} has no bakehouse counterpart; kept")


def _rewrite_dependencies(doc: Any, rule: RequirementRule, notes: list[str]) -> None:
    project = doc.get("project", {})
    _rewrite_requirements(project.get("dependencies"), rule, "[project] dependencies", notes)
    for extra, array in project.get("optional-dependencies", {}).items():
        _rewrite_requirements(array, rule, f"[project.optional-dependencies] {extra}", notes)
    for group, array in doc.get("dependency-groups", {}).items():
        _rewrite_requirements(array, rule, f"[dependency-groups] {group}", notes)
    uv = doc.get("tool", {}).get("uv", {})
    _rewrite_requirements(uv.get("dev-dependencies"), rule, "[tool.uv] dev-dependencies", notes)


def _settings_from_tool_dagster(old: Table, notes: list[str]) -> Table:
    new = tomlkit.table()
    new.add("directory_type", "project")
    project = tomlkit.table()
    module = old.get("module_name")
    if isinstance(module, str):
        project.add("root_module", module.partition(".")[0])
    for key, value in old.items():
        if key in _DAGSTER_PROJECT_KEYS:
            project.add(_DAGSTER_PROJECT_KEYS[key], value)
        else:
            notes.append(f"[tool.dagster] {key}: no bakehouse setting means this; dropped")
    new.add("project", project)
    return new


def _rename_headers(table: Any, old: str, new: str) -> None:
    # A table written with its own [header] keeps that header text in `display_name`.
    if not isinstance(table, Table):
        return
    shown = table.display_name
    if shown is not None and (shown == old or shown.startswith(old + ".")):
        table.display_name = new + shown.removeprefix(old)
    for child in table.value.values():
        _rename_headers(child, old, new)


def _rewrite_settings(doc: Any, notes: list[str]) -> None:
    tool = doc.get("tool")
    if not isinstance(tool, Table):
        return
    present = [name for name in ("dagster", "dg") if name in tool]
    if not present:
        return
    if "bakehouse" in tool:
        notes.append(f"[tool.{present[0]}] left as is: [tool.bakehouse] is already there")
        return
    first, *others = present
    value = tool[first]
    if first == "dagster":
        value = _settings_from_tool_dagster(value, notes)
    # Renamed where it stands, so that the rest of the file keeps its layout. tomlkit has no
    # public rename; `Container._replace` is what its own `__setitem__` uses.
    tool.value._replace(first, "bakehouse", value)
    _rename_headers(value, f"tool.{first}", "tool.bakehouse")
    for key in others:
        tool.remove(key)
        notes.append(f"[tool.{key}] dropped: [tool.{first}] became [tool.bakehouse]")


def rewrite_pyproject(text: str, rule: RequirementRule) -> TomlResult:
    """`text` with [tool.dagster] or [tool.dg] as [tool.bakehouse] and Dagster requirements
    replaced. Raises ``tomlkit.exceptions.ParseError`` for invalid TOML.
    """
    doc = tomlkit.parse(text)
    notes: list[str] = []
    _rewrite_dependencies(doc, rule, notes)
    _rewrite_settings(doc, notes)
    return TomlResult(text=tomlkit.dumps(doc), notes=notes)

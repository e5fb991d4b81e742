"""Dagster requirements in ``setup.py`` (rewritten with libcst) and ``requirements*.txt`` files."""

from __future__ import annotations

import libcst as cst

from bakehouse.migrate.requirements import RequirementRule, is_dagster


class _SetupRequirements(cst.CSTTransformer):
    """Rewrites the string items of lists and tuples that are Dagster requirements."""

    def __init__(self, rule: RequirementRule) -> None:
        super().__init__()
        self.rule = rule
        self.kept: list[tuple[int, str]] = []

    def leave_Element(
        self, original_node: cst.Element, updated_node: cst.Element
    ) -> cst.Element | cst.RemovalSentinel:
        value = updated_node.value
        if not isinstance(value, cst.SimpleString):
            return updated_node
        requirement = value.evaluated_value
        if not isinstance(requirement, str) or not is_dagster(requirement):
            return updated_node
        new = self.rule.convert(requirement)
        if new is None:
            return cst.RemoveFromParent()
        if new == requirement:
            return updated_node
        quote = value.quote
        return updated_node.with_changes(value=value.with_changes(value=f"{quote}{new}{quote}"))


def rewrite_setup_py(source: str, rule: RequirementRule) -> str:
    """`source` of a ``setup.py`` with its Dagster requirements converted.

    Raises ``libcst.ParserSyntaxError`` when `source` is not valid Python.
    """
    return cst.parse_module(source).visit(_SetupRequirements(rule)).code


def rewrite_requirements_txt(text: str, rule: RequirementRule) -> str:
    """A requirements file with its Dagster lines converted or dropped; other lines untouched."""
    lines = text.splitlines(keepends=True)
    requirements = [line.split("#", 1)[0].strip() for line in lines]
    wanted = [r if r and not r.startswith("-") else "" for r in requirements]
    converted = rule.convert_all(wanted)
    out: list[str] = []
    for line, old, new in zip(lines, wanted, converted, strict=True):
        if not old or new == old:
            out.append(line)
        elif new is not None:
            out.append(line.replace(old, new, 1))
    return "".join(out)

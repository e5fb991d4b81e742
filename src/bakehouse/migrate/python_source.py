"""Rewrite one Python module's Dagster imports to bakehouse with libcst, and list the names it uses.

libcst keeps every comment, blank line and quote as it was: only the module names change, so
line numbers stay the same and a second run finds nothing to do.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from bakehouse.migrate.modules import ModuleRenamer


@dataclass(frozen=True)
class NameUse:
    """One bakehouse name a module refers to: `target` as resolved, `shown` as written."""

    line: int
    target: str  # a dotted path from a bakehouse module: "bakehouse.MetadataValue.md"
    shown: str  # how the code spells it: "dg.MetadataValue.md"


@dataclass(frozen=True)
class RewrittenModule:
    """A module's new text (equal to the old one when nothing was Dagster's) and its names."""

    text: str
    uses: tuple[NameUse, ...]


def dotted_name(node: cst.BaseExpression) -> str | None:
    """``a.b.c`` for a chain of names and attributes; None for anything else (calls, subscripts)."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = dotted_name(node.value)
        return None if head is None else f"{head}.{node.attr.value}"
    return None


def _expression(dotted: str) -> cst.Attribute | cst.Name:
    expr = cst.parse_expression(dotted)
    assert isinstance(expr, (cst.Attribute, cst.Name))
    return expr


class _ImportRenamer(cst.CSTTransformer):
    """Renames Dagster modules in imports, and the attribute paths of modules imported bare."""

    def __init__(self, renamer: ModuleRenamer) -> None:
        super().__init__()
        self.renamer = renamer
        # `import dagster` binds `dagster`, used as `dagster.asset`: old root -> new root.
        self.roots: dict[str, str] = {}

    def leave_Import(self, original_node: cst.Import, updated_node: cst.Import) -> cst.Import:
        return updated_node.with_changes(names=[self._alias(a) for a in updated_node.names])

    def _alias(self, alias: cst.ImportAlias) -> cst.ImportAlias:
        name = dotted_name(alias.name)
        new = self.renamer.rename(name) if name else None
        if name is None or new is None:
            return alias
        if alias.asname is None:
            self.roots[name.partition(".")[0]] = new.partition(".")[0]
        return alias.with_changes(name=_expression(new))

    def leave_ImportFrom(
        self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom
    ) -> cst.ImportFrom:
        if updated_node.relative or updated_node.module is None:
            return updated_node
        new = self.renamer.rename(dotted_name(updated_node.module) or "")
        if new is None:
            return updated_node
        return updated_node.with_changes(module=_expression(new))

    def leave_Attribute(
        self, original_node: cst.Attribute, updated_node: cst.Attribute
    ) -> cst.Attribute:
        value = updated_node.value
        if isinstance(value, cst.Name) and value.value in self.roots:
            return updated_node.with_changes(value=cst.Name(self.roots[value.value]))
        return updated_node


class _NameCollector(cst.CSTVisitor):
    """Every name a module takes from bakehouse, with its line, for checking against bakehouse."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, renamer: ModuleRenamer) -> None:
        super().__init__()
        self.renamer = renamer
        self.bound: dict[str, str] = {}  # local name -> the bakehouse path it stands for
        self.uses: list[NameUse] = []

    def _use(self, node: cst.CSTNode, target: str, shown: str) -> None:
        line = self.get_metadata(PositionProvider, node).start.line
        self.uses.append(NameUse(line=line, target=target, shown=shown))

    def visit_Import(self, node: cst.Import) -> bool:
        for alias in node.names:
            name = dotted_name(alias.name)
            if name is None or not self.renamer.is_bakehouse(name):
                continue
            self._use(alias, name, f"import {name}")
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self.bound[alias.asname.name.value] = name
            else:
                top = name.partition(".")[0]
                self.bound[top] = top
        return False  # the imported path is checked whole, not again as an attribute chain

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        if node.relative or node.module is None:
            return False
        module = dotted_name(node.module)
        if module is None or not self.renamer.is_bakehouse(module):
            return False
        if isinstance(node.names, cst.ImportStar):
            self._use(node, module, f"from {module} import *")
            return False
        for alias in node.names:
            name = dotted_name(alias.name)
            if name is None:
                continue
            self._use(alias, f"{module}.{name}", f"from {module} import {name}")
            local = alias.asname.name if alias.asname is not None else alias.name
            if isinstance(local, cst.Name):
                self.bound[local.value] = f"{module}.{name}"
        return False

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        chain = dotted_name(node)
        if chain is None:
            return True  # `dg.x().y`: the chain inside the call is visited on its own
        root, _, rest = chain.partition(".")
        if root not in self.bound:
            return False
        self._use(node, f"{self.bound[root]}.{rest}", chain)
        return False  # the shorter chains inside were checked as part of this one


def rewrite_module(source: str, renamer: ModuleRenamer) -> RewrittenModule:
    """`source` with Dagster imports renamed, and the bakehouse names it then uses.

    Raises ``libcst.ParserSyntaxError`` when `source` is not valid Python.
    """
    module = cst.parse_module(source)
    rewritten = module.visit(_ImportRenamer(renamer))
    collector = _NameCollector(renamer)
    MetadataWrapper(rewritten).visit(collector)
    return RewrittenModule(text=rewritten.code, uses=tuple(collector.uses))

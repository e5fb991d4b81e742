"""Expand ``{{ ... }}`` in the string values of a component's attributes.

Only a few expressions exist, so a typo is an error at its YAML line rather than a silent
empty string: ``{{ project_root }}``, ``{{ component_root }}`` (the folder holding
``defs.yaml``) and ``{{ env.NAME }}`` or ``{{ env('NAME') }}`` (a variable of the location's
environment, which includes the project's ``.env``). Expressions on ``node`` (``{{ node.name
}}``) are left for the component to render once per node it builds (dbt's translation).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bakehouse.components.yaml_source import PathKey, YamlDocument
from bakehouse.errors import DefinitionError

_EXPRESSION = re.compile(r"\{\{\s*(.*?)\s*\}\}")
# Rendered later by a component, once per node (DbtProjectComponent's `translation`).
_PER_NODE = re.compile(r"^node\b")
_ENV = re.compile(r"""^env(?:\.([A-Za-z_][A-Za-z0-9_]*)|\(\s*(['"])([^'"]+)\2\s*\))$""")


class TemplateScope:
    """The values ``{{ ... }}`` may name."""

    def __init__(
        self,
        *,
        project_root: Path | None,
        component_root: Path,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.project_root = project_root
        self.component_root = component_root
        self.environ = os.environ if environ is None else environ

    def lookup(self, expression: str) -> str:
        """The text for one expression; raises `KeyError` with a reason when it has none."""
        if expression == "project_root":
            if self.project_root is None:
                raise KeyError("this defs folder is not inside a project")
            return str(self.project_root)
        if expression == "component_root":
            return str(self.component_root)
        match = _ENV.match(expression)
        if match:
            name = match.group(1) or match.group(3)
            if name not in self.environ:
                raise KeyError(f"environment variable {name} is not set (nor in .env)")
            return self.environ[name]
        raise KeyError(
            f"unknown template {{{{ {expression} }}}}; use {{{{ project_root }}}}, "
            "{{ component_root }} or {{ env.NAME }}"
        )


def expand(value: Any, scope: TemplateScope, document: YamlDocument, path: PathKey) -> Any:
    """`value` with every ``{{ ... }}`` in its strings replaced; errors name the YAML line."""
    if isinstance(value, str):
        return _expand_text(value, scope, document, path)
    if isinstance(value, dict):
        return {k: expand(v, scope, document, (*path, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [expand(v, scope, document, (*path, i)) for i, v in enumerate(value)]
    return value


def _expand_text(text: str, scope: TemplateScope, document: YamlDocument, path: PathKey) -> str:
    def replace(match: re.Match[str]) -> str:
        if _PER_NODE.match(match.group(1)):
            return match.group(0)
        try:
            return scope.lookup(match.group(1))
        except KeyError as exc:
            where = ".".join(str(p) for p in path)
            raise DefinitionError(f"{where}: {exc.args[0]}", source=document.source(path)) from None

    return _EXPRESSION.sub(replace, text)

"""Components: reusable building blocks that turn a ``defs.yaml`` into definitions.

Code-server side, like the authoring API: host processes (the CLI, the web server) never import
this package; they ask a process running in the location's interpreter
(``python -m bakehouse.components.describe``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from bakehouse.components.component import (
    Component,
    ComponentLoadContext,
    Model,
    Resolvable,
)
from bakehouse.components.registry import BUILTIN_TYPES

__all__ = [
    "Component",
    "ComponentLoadContext",
    "Model",
    "Resolvable",
    "ScriptComponent",
    "SqlFolderComponent",
    "load_defs",
]


def __getattr__(name: str) -> Any:
    if name == "load_defs":
        # The spelling of Dagster's earlier `definitions.py`: `dg.components.load_defs(defs)`.
        from bakehouse.authoring.loading import load_defs

        return load_defs
    module = BUILTIN_TYPES.get(name)
    if module is None:
        raise AttributeError(f"module 'bakehouse.components' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


if TYPE_CHECKING:  # pragma: no cover
    from bakehouse.authoring.loading import load_defs
    from bakehouse.components.script import ScriptComponent
    from bakehouse.components.sql_folder import SqlFolderComponent

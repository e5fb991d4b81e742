"""Shell completion of ``bh`` arguments that name things of the workspace here.

Completion runs at every Tab, so it reads only the workspace's settings files (what
``find_workspace`` reads): never user code, no code server, no storage. Completing the shell
words themselves (commands, options) is click's own (``_BH_COMPLETE=bash_source bh``).
"""

from __future__ import annotations

from pathlib import Path

import click
from click.shell_completion import CompletionItem

from bakehouse.errors import ProjectError


def location_names(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """The code location names of the workspace around the working directory."""
    from bakehouse.project.workspace import find_workspace

    try:
        workspace = find_workspace(Path.cwd())
    except (ProjectError, OSError):
        return []  # outside a project, or settings that do not read: nothing to offer
    return [
        CompletionItem(p.location_name)
        for p in workspace.projects
        if p.location_name.startswith(incomplete)
    ]

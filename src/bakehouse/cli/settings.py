"""``bh check settings``: the project or workspace settings as read, with what is suspicious."""

from __future__ import annotations

import click

from bakehouse.cli import json_output
from bakehouse.cli.context import load_workspace
from bakehouse.cli.output import console
from bakehouse.project.settings import ProjectSettings, settings_warnings


def _project_rows(project: ProjectSettings) -> list[tuple[str, str]]:
    from bakehouse.host.client import interpreter_for

    python = interpreter_for(project)
    if python == str(project.root / ".venv" / "bin" / "python"):
        python += " (the project's .venv)"
    elif not project.python:
        python += " (the Python running bh: the project has no .venv)"
    env = ", ".join(sorted(project.env)) or "none"
    return [
        ("root_module", project.root_module),
        ("defs_module", project.defs_module),
        ("definitions module", project.definitions_module or "none: defs_module is loaded"),
        ("code location name", project.location_name),
        ("registry_modules", ", ".join(project.registry_modules) or "none"),
        ("python", python),
        (".env variables", env),
        ("defs_errors", project.defs_errors),
    ]


@click.command("settings")
@json_output.option
def check_settings(as_json: bool) -> None:
    """Read the settings ([tool.bakehouse], [tool.dg] or dg.toml) of the project or workspace
    here; errors name the key and the file. Exits 1 on an error.

    With --json: ``{"workspace", "config_file", "projects": [{"name", "pyproject", "table",
    "settings": {...}}], "warnings": [...]}``.
    """
    from rich.markup import escape

    workspace = load_workspace(here_only=True)  # errors name the key and the file, and exit 1
    out = console()
    configs = [workspace.config_file] if not workspace.is_single_project else []
    warnings = [w for c in configs for w in settings_warnings(c)]
    if as_json:
        warnings += [w for p in workspace.projects for w in settings_warnings(p.pyproject)]
        json_output.emit(
            {
                "workspace": str(workspace.root),
                "config_file": str(workspace.config_file),
                "projects": [
                    {
                        "name": p.location_name,
                        "pyproject": str(p.pyproject),
                        "table": p.tool_table,
                        "settings": dict(_project_rows(p)),
                    }
                    for p in workspace.projects
                ],
                "warnings": warnings,
            }
        )
        return
    if configs:
        out.print(
            f"Workspace [bold]{escape(str(workspace.root))}[/] "
            f"({len(workspace.projects)} projects), settings in {workspace.config_file}"
        )
    for project in workspace.projects:
        table = escape(f"[{project.tool_table}]")
        out.print(
            f"Project [bold]{escape(project.location_name)}[/]: {table} in "
            f"{escape(str(project.pyproject))}"
        )
        for key, value in _project_rows(project):
            out.print(f"  {key:<20} {escape(value)}")
        warnings += settings_warnings(project.pyproject)
    for warning in warnings:
        out.print(f"[yellow]! {escape(warning)}[/]")
    out.print("[green]✓[/] settings are valid" + (" (with warnings)" if warnings else ""))

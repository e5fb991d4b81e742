"""``bh scaffold defs`` and ``bh scaffold component``: new definition files from templates."""

from __future__ import annotations

import os
from pathlib import Path

import click

from bakehouse.cli.output import console
from bakehouse.errors import LocationLoadError, ProjectError, ScaffoldError
from bakehouse.project.settings import ProjectSettings, find_project
from bakehouse.scaffold.defs import PYTHON_KINDS, Scaffolded


@click.group()
def scaffold() -> None:
    """Add definitions or component types to the project."""


def _project() -> ProjectSettings:
    try:
        return find_project(Path.cwd())
    except ProjectError as exc:
        raise click.ClickException(str(exc)) from None


def _report(result: Scaffolded) -> None:
    out = console()
    for path in result.written:
        relative = os.path.relpath(path)
        out.print(f"[green]✓[/] wrote {path if relative.startswith('..') else relative}")
    for note in result.notes:
        out.print(f"  {note}")


@scaffold.command("defs")
@click.argument("kind")
@click.argument("path")
@click.option("--force", is_flag=True, help="Replace files that already exist.")
@click.option("--asset", "asset", metavar="KEY", help="For asset_check: the asset it checks.")
@click.option(
    "--project-path",
    "project_path",
    metavar="DIR",
    help="For dbt_project: the existing dbt project (folder of dbt_project.yml) to wire.",
)
def scaffold_defs(
    kind: str, path: str, force: bool, asset: str | None, project_path: str | None
) -> None:
    """Write a commented, runnable KIND at PATH, relative to the project's defs folder.

    KIND is one of asset, multi_asset, schedule, sensor, resource, job, asset_check (PATH is
    then a .py file), or a component type such as bakehouse.SqlFolderComponent (PATH is then
    a folder that gets a defs.yaml); dbt_project wires the dbt project at --project-path
    (bakehouse_dbt.DbtProjectComponent). Folders are created as packages; nothing is written
    outside the defs folder or over an existing file without --force. The new definition is
    loaded by itself: no other file needs editing.
    """
    from bakehouse.scaffold.defs import (
        COMPONENT_KINDS,
        dbt_project_attribute,
        python_kind,
        scaffold_component_instance,
        scaffold_python_defs,
    )

    project = _project()
    try:
        if python_kind(kind):
            result = scaffold_python_defs(project, kind, path, force=force, asset=asset)
        else:
            attributes = None
            if project_path is not None:
                if COMPONENT_KINDS.get(kind, kind) != COMPONENT_KINDS["dbt_project"]:
                    raise ScaffoldError("--project-path is for the dbt_project kind")
                attributes = {"project": dbt_project_attribute(project, project_path)}
            elif kind == "dbt_project":
                raise ScaffoldError(
                    "dbt_project wires an existing dbt project: give its folder with "
                    "--project-path DIR"
                )
            result = scaffold_component_instance(
                project, kind, path, force=force, attributes=attributes
            )
    except ScaffoldError as exc:
        raise click.ClickException(str(exc)) from None
    except LocationLoadError as exc:
        message = exc.error.message
        if "." not in kind and "unknown component type" in message:
            message = (
                f"'{kind}' is neither a kind of definition ({', '.join(PYTHON_KINDS)}) nor a "
                f"component type: {message}"
            )
        raise click.ClickException(message) from None
    _report(result)


@scaffold.command("component")
@click.argument("name")
@click.option("--force", is_flag=True, help="Replace the file if it exists.")
def scaffold_component(name: str, force: bool) -> None:
    """Write a new component type NAME (a CamelCase class) in the project's components
    package, ready for `bh scaffold defs <root_module>.components.<module>.NAME FOLDER`."""
    from bakehouse.scaffold.defs import scaffold_component_type

    project = _project()
    try:
        result = scaffold_component_type(project, name, force=force)
    except ScaffoldError as exc:
        raise click.ClickException(str(exc)) from None
    _report(result)

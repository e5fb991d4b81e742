"""``bh list components``: the component types a project can use, asked of its own Python."""

from __future__ import annotations

from typing import Any

import click

from bakehouse.cli import json_output
from bakehouse.cli.context import load_workspace
from bakehouse.cli.output import console, print_error
from bakehouse.errors import LocationLoadError, ScaffoldError


@click.command("components")
@json_output.option
def list_components(as_json: bool) -> None:
    """List component types: bakehouse's own and those in the project's registry_modules,
    with what each does. In a workspace, each project's are listed."""
    from bakehouse.scaffold.component_client import list_component_types

    workspace = load_workspace(here_only=True)
    documents: dict[str, list[dict[str, Any]]] = {}
    failed = False
    for project in workspace.projects:
        try:
            documents[project.location_name] = list_component_types(project)
        except LocationLoadError as exc:
            failed = True
            print_error(console(), exc.error, title=f"Component types of '{project.location_name}'")
        except ScaffoldError as exc:
            raise click.ClickException(str(exc)) from None
    if as_json:
        payload: object = (
            next(iter(documents.values()), [])
            if workspace.is_single_project
            else {"locations": documents}
        )
        json_output.emit(payload)
    else:
        for name, types in documents.items():
            _print_table(name, types)
    if failed:
        raise SystemExit(1)


def _print_table(location: str, types: list[dict[str, Any]]) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"Component types of {location}", title_justify="left")
    for column in ("Type", "Attributes", "Summary"):
        table.add_column(column, overflow="fold")
    for item in types:
        attributes = ", ".join(
            a["name"] + ("*" if a["required"] else "") for a in item["attributes"]
        )
        table.add_row(escape(item["name"]), escape(attributes) or "-", escape(item["summary"]))
    out = console()
    out.print(table)
    out.print(
        "[dim]* required. Make an instance with: bh scaffold defs TYPE FOLDER "
        "(writes FOLDER/defs.yaml under defs/)[/]"
    )

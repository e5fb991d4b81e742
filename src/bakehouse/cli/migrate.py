"""``bh migrate-from-dagster [PATH]``: rewrite a Dagster project to bakehouse, diff first."""

from __future__ import annotations

import difflib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from bakehouse.migrate.plan import Migration


def _diff(migration: Migration) -> list[str]:
    lines: list[str] = []
    for change in migration.changes:
        name = migration.relative(change.path)
        lines.extend(
            difflib.unified_diff(
                change.old.splitlines(keepends=True),
                change.new.splitlines(keepends=True),
                fromfile=f"a/{name}",
                tofile=f"b/{name}",
            )
        )
    return [line if line.endswith("\n") else line + "\n" for line in lines]


def _show_diff(lines: list[str]) -> None:
    colours = {"+": "green", "-": "red", "@": "cyan"}
    for line in lines:
        header = line.startswith(("+++", "---"))
        click.secho(line, nl=False, bold=header, fg=None if header else colours.get(line[:1]))


def _show_report(migration: Migration) -> None:
    for note in migration.notes:
        click.echo(f"note: {note}")
    for error in migration.errors:
        click.secho(f"error: {error}", fg="red", err=True)
    if migration.missing:
        click.secho(
            f"\n{len(migration.missing)} use(s) of names bakehouse does not have "
            "(this code will not run until bakehouse has them or you change it):",
            bold=True,
        )
        for name in migration.missing:
            click.echo(
                f"  {migration.relative(name.path)}:{name.line}: {name.shown}: {name.reason}"
            )
    else:
        click.echo("\nEvery Dagster name this project uses exists in bakehouse.")


@click.command("migrate-from-dagster")
@click.argument(
    "path",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path("."),
)
@click.option("--yes", "-y", is_flag=True, help="Apply the changes without asking.")
@click.option(
    "--check",
    is_flag=True,
    help="Only report: show the diff and missing names, exit 1 if anything would change.",
)
def migrate_from_dagster(path: Path, yes: bool, check: bool) -> None:
    """Rewrite the Dagster project at PATH (default: here) to bakehouse, in place.

    Renames imports (dagster -> bakehouse, dagster_duckdb -> bakehouse_duckdb, ...), turns
    [tool.dagster] or [tool.dg] into [tool.bakehouse], replaces Dagster dependencies and the
    dg / dagster commands in the README. Shows the diff first, and lists every name the code
    uses that bakehouse does not have, with file:line.
    """
    # libcst and tomlkit load here, not when `bh` starts.
    from bakehouse.migrate.plan import plan_migration
    from bakehouse.migrate.resolve import ResolveError, interpreter_for

    try:
        migration = plan_migration(path, interpreter_for(path.resolve()))
    except ResolveError as exc:
        raise click.ClickException(str(exc)) from None
    lines = _diff(migration)
    _show_diff(lines)
    _show_report(migration)
    if not migration.changes:
        click.echo("Nothing to change: the project already uses bakehouse.")
        sys.exit(0)
    count = len(migration.changes)
    summary = f"{count} file{'s' if count != 1 else ''}"
    if check:
        click.echo(f"{summary} would change (run without --check to apply).")
        sys.exit(1)
    if not yes and not click.confirm(f"\nApply these changes to {summary}?", default=False):
        click.echo("Nothing written.")
        sys.exit(1)
    migration.apply()
    click.secho(f"Migrated {summary} in {migration.root}.", fg="green")

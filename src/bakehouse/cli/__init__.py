"""The ``bh`` command line. Subcommands load lazily so ``bh --help`` stays fast.

The CLI is a host process: it never imports user code or the authoring API; it asks code
location processes for snapshots and starts run workers.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from bakehouse.errors import BakehouseError

# name -> (module:attribute, short help shown by `bh --help` without importing the module)
_SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "check": ("bakehouse.cli.check:check", "Check that definitions load, and report errors."),
    "list": ("bakehouse.cli.listing:list_group", "List definitions: assets, jobs, schedules..."),
    "launch": ("bakehouse.cli.launch:launch", "Materialize a selection of assets."),
    "runs": ("bakehouse.cli.runs:runs", "Inspect runs and their event logs."),
    "backfill": ("bakehouse.cli.backfill:backfill", "List, inspect and cancel backfills."),
    "dev": ("bakehouse.cli.dev:dev", "Start the UI, API, run queue and code locations locally."),
    "webserver": ("bakehouse.cli.dev:webserver", "Serve the UI and API (runs start in bh daemon)."),
    "daemon": ("bakehouse.cli.dev:daemon", "Run schedules, sensors, the run queue and monitoring."),
    "schedule": ("bakehouse.cli.automation:schedule", "List, start and stop schedules."),
    "sensor": ("bakehouse.cli.automation:sensor", "List, start, stop and preview sensors."),
    "automation": (
        "bakehouse.cli.automation_conditions:automation",
        "Automation conditions: automated assets and why each evaluation requested or not.",
    ),
    "locations": ("bakehouse.cli.locations:locations", "Code locations: status and reloads."),
    "doctor": ("bakehouse.cli.doctor:doctor", "Find unreadable stored rows; move them aside."),
    "create": ("bakehouse.cli.create:create", "Create a new project or workspace."),
    "scaffold": ("bakehouse.cli.scaffold:scaffold", "Add definitions or component types."),
    "migrate-from-dagster": (
        "bakehouse.cli.migrate:migrate_from_dagster",
        "Rewrite a Dagster project to bakehouse (shows the diff first).",
    ),
    "token": ("bakehouse.cli.token:token", "Create, list and revoke API tokens."),
    "worker": ("bakehouse.cli.worker:worker", "Start Celery step workers; list the workers."),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported only when invoked."""

    def __init__(self, *args: Any, lazy: dict[str, tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            target, _ = self.lazy[cmd_name]
            module_name, attr = target.split(":")
            command = getattr(importlib.import_module(module_name), attr)
            if not isinstance(command, click.Command):
                raise TypeError(f"{target} is not a click command")
            return command
        return super().get_command(ctx, cmd_name)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        from bakehouse.cli import json_output

        # Before anything is parsed: a bad option of a subcommand is a JSON error too.
        json_output.remember(ctx, args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the subcommand; with ``--json``, its failures are printed as a JSON document."""
        from bakehouse.cli import json_output

        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            if not json_output.asked_in(ctx):
                raise
            json_output.fail_with(exc)
        except BakehouseError as exc:
            if not json_output.asked_in(ctx):
                raise
            from bakehouse.cli.errors import one_line

            json_output.fail(type(exc).__name__, one_line(exc), 1)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, self.lazy[name][1]) for name in sorted(self.lazy)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(
    cls=LazyGroup,
    lazy=_SUBCOMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="bakehouse", prog_name="bh", message="%(prog)s %(version)s")
@click.option("-v", "--verbose", is_flag=True, help="Show the traceback of an error.")
def cli(verbose: bool) -> None:
    """bakehouse: write data assets in Python, see them as one graph, run them.

    Run it inside a project (a folder whose pyproject.toml has [tool.bakehouse] or [tool.dg]).
    """
    from bakehouse.cli import errors

    errors.verbose = verbose


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``bh`` console script."""
    from bakehouse.errors import BakehouseError

    try:
        cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="bh")
    except BakehouseError as exc:
        # Failures people can fix (storage URL, settings): what to do, not a traceback.
        from bakehouse.cli import errors

        sys.exit(errors.report(exc))

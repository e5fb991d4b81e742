"""``bh runs list|show|reexecute``: runs and their event logs, from instance storage; a run
executed again through the launch service (``bh runs logs`` is in `cli.run_logs`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from bakehouse import serdes
from bakehouse.cli import json_output
from bakehouse.cli.context import open_instance_here
from bakehouse.cli.output import (
    console,
    format_duration,
    format_time,
    metadata_preview,
    print_error,
    status_text,
)
from bakehouse.cli.run_json import corrupt_json, run_json
from bakehouse.errors import AmbiguousRunIdError, CorruptRecordError, ErrorInfo, RunNotFoundError
from bakehouse.storage.records import CorruptRecord, EventRecord, EventType, RunRecord, RunStatus

if TYPE_CHECKING:
    from bakehouse.storage import Instance


@click.group()
def runs() -> None:
    """Inspect runs (of the project here, or of BAKEHOUSE_HOME)."""


def _partitions_of(run: RunRecord) -> str | None:
    """The partition a run targets, or its range as `bh launch --partition-range` spells it."""
    if run.partition_range is not None:
        return "...".join(run.partition_range)
    return run.partition_key


@runs.command("list")
@click.option("--limit", default=20, show_default=True, help="How many runs, newest first.")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice([s.value for s in RunStatus], case_sensitive=False),
    help="Only runs with this status (repeatable: any of them).",
)
@click.option("--job", metavar="NAME", help="Only runs of this job.")
@click.option("--asset", metavar="KEY", help="Only runs that select this asset (e.g. raw/orders).")
@click.option(
    "--tag",
    "tags",
    multiple=True,
    metavar="KEY=VALUE",
    help="Only runs with this tag (repeatable).",
)
@click.option(
    "--launched-by",
    metavar="WHO",
    help="Only runs launched by: user, schedule, sensor or backfill, optionally :NAME "
    "(user:ana, schedule:nightly, sensor:new_files, backfill:ID).",
)
@json_output.option
def list_runs(
    limit: int,
    statuses: tuple[str, ...],
    job: str | None,
    asset: str | None,
    tags: tuple[str, ...],
    launched_by: str | None,
    as_json: bool,
) -> None:
    """List recent runs, filtered by status, job, asset, tag and launcher (all must hold)."""
    from bakehouse.storage.run_filter import parse_filter, parse_launched_by, parse_tag

    for tag in tags:
        _checked(parse_tag, tag, "--tag")
    if launched_by:
        _checked(parse_launched_by, launched_by, "--launched-by")
    run_filter = parse_filter(
        statuses=statuses, job=job, asset=asset, tags=tags, launched_by=launched_by
    )
    with open_instance_here() as instance:
        listed = instance.get_runs(limit=limit, run_filter=run_filter, include_corrupt=True)
    records = [r for r in listed if isinstance(r, RunRecord)]
    corrupt = [r for r in listed if isinstance(r, CorruptRecord)]
    if as_json:
        rows = [run_json(r) if isinstance(r, RunRecord) else corrupt_json(r) for r in listed]
        json_output.emit(rows)
        return
    for bad in corrupt:
        click.echo(
            f"run {bad.key} cannot be read ({bad.reason}); `bh doctor` lists such rows", err=True
        )
    out = console()
    if not records and not corrupt:
        if run_filter.is_empty:
            out.print("No runs yet. Start one with: bh launch --assets '*'")
        else:
            out.print("No runs match these filters.")
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(title_justify="left")
    partitioned = any(_partitions_of(r) for r in records)
    columns = ["Run", "Status", "Assets", "Created", "Duration", "Launched by"]
    for column in columns + (["Partition"] if partitioned else []):
        table.add_column(column, overflow="fold")
    for run in records:
        assets = ", ".join(run.asset_selection) or (run.selection_query or "-")
        if len(assets) > 60:
            assets = assets[:59] + "…"
        table.add_row(
            run.run_id[:8],
            status_text(run.status.value),
            escape(assets),
            format_time(run.created_at),
            format_duration(run.duration),
            escape(run.tags.get("bakehouse/launched_by", "-")),
            *([escape(_partitions_of(run) or "-")] if partitioned else []),
        )
    out.print(table)


def _checked(parse: Callable[[str], object], text: str, option: str) -> None:
    """Refuse `text` as a bad value of `option` when `parse` does, with its reason."""
    try:
        parse(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


def find_run(instance: Instance, run_id: str) -> RunRecord:
    """The run `run_id` names, or the one run whose id starts with it; a ClickException else."""
    try:
        # Accepts the short ids `bh runs list` prints: an indexed prefix query, any run.
        return instance.find_run(run_id)
    except RunNotFoundError:
        raise click.ClickException(f"no run with id '{run_id}' (see bh runs list)") from None
    except AmbiguousRunIdError as exc:
        raise click.ClickException(str(exc)) from None
    except CorruptRecordError as exc:
        raise click.ClickException(f"{exc}; `bh doctor --move-aside` sets it aside") from None


_HIDDEN_BY_DEFAULT = {EventType.STEP_INPUT, EventType.STEP_OUTPUT}


@runs.command("show")
@click.argument("run_id")
@json_output.option
@click.option("--all", "show_all", is_flag=True, help="Also show debug events (inputs, outputs).")
def show_run(run_id: str, as_json: bool, show_all: bool) -> None:
    """Show a run and its event log (RUN_ID may be the short id)."""
    with open_instance_here() as instance:
        run = find_run(instance, run_id)
        events = instance.get_events(run.run_id)
    if as_json:
        payload = {
            "run": run_json(run),
            "events": serdes.to_builtins(events),
        }
        json_output.emit(payload)
        return
    _print_run(run, events, show_all)


def _print_run(run: RunRecord, events: list[EventRecord], show_all: bool) -> None:
    from rich.markup import escape
    from rich.table import Table

    out = console()
    out.print(f"Run [bold]{run.run_id}[/]  {status_text(run.status.value)}")
    out.print(
        f"  location {escape(run.location_name or '-')} · selection "
        f"{escape(run.selection_query or ', '.join(run.asset_selection) or '-')} · "
        f"created {format_time(run.created_at)} · duration {format_duration(run.duration)}"
        + (f" · partition {escape(part)}" if (part := _partitions_of(run)) else "")
    )
    table = Table(show_lines=False)
    for column in ("Time", "Step", "Event", "Message"):
        table.add_column(column, overflow="fold")
    errors: list[tuple[str, ErrorInfo]] = []
    for event in events:
        if event.event_type in _HIDDEN_BY_DEFAULT and not show_all:
            continue
        if event.level == "DEBUG" and not show_all:
            continue
        message = escape(event.message)
        metadata = event.data.get("metadata") or {}
        for label, entry in metadata.items():
            message += f"\n  [dim]{escape(label)}:[/] {escape(metadata_preview(entry))}"
        if event.event_type == EventType.ASSET_CHECK_EVALUATION and event.data.get("description"):
            message += f"\n  [dim]{escape(str(event.data['description']))}[/]"
        if "duration_ms" in event.data:
            message += f" [dim]({format_duration(event.data['duration_ms'] / 1000)})[/]"
        style = (
            "red"
            if event.level in ("ERROR", "CRITICAL")
            else ("yellow" if event.level == "WARNING" else "")
        )
        table.add_row(
            format_time(event.timestamp)[11:],
            escape(event.step_key or ""),
            f"[{style}]{event.event_type.value}[/]" if style else event.event_type.value,
            message,
        )
        error = event.data.get("error")
        if isinstance(error, dict):
            errors.append((event.step_key or "run", ErrorInfo.from_dict(error)))
    out.print(table)
    for where, error in errors:
        print_error(out, error, title=f"Error in {where}")
    if any(e.event_type == EventType.STEP_START for e in events):
        # Escaped: the option brackets are text, not markup.
        hint = escape(f"bh runs logs {run.run_id} [--step S] [--stderr]")
        out.print(f"[dim]What the steps printed: {hint}[/]")


@runs.command("reexecute")
@click.argument("run_id")
@click.option("--from-failure", is_flag=True, help="Only the assets the run did not materialize.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the final summary.")
@click.option("--url", help="Re-execute through the deployment at this URL.")
@click.option("--local", is_flag=True, help="Run here even if a deployment (bh dev) is running.")
@json_output.option
def reexecute(
    run_id: str, from_failure: bool, quiet: bool, url: str | None, local: bool, as_json: bool
) -> None:
    """Run RUN_ID's assets again (same partition, same config), showing each step.

    Planned like any launch: what no longer fits the definitions is refused before a run
    exists. Goes through a running deployment when there is one, as bh launch does. With
    --json, the document bh launch --json prints.
    """
    from bakehouse.cli.context import deployment_url, foreground_deployment, load_workspace

    if url and local:
        raise click.UsageError("give --url or --local, not both")
    workspace = load_workspace()
    if not local:
        base = deployment_url(url, workspace)
        if base is not None:
            from bakehouse.cli.launch_remote import queue_through

            body = {"from_failure": from_failure}
            queue_through(base, f"/api/runs/{run_id}/reexecute", body, quiet=quiet)
    from bakehouse.cli.run_here import drive_here
    from bakehouse.errors import LaunchError
    from bakehouse.host.launching import plan_reexecution

    with foreground_deployment(workspace) as deployment:
        parent = find_run(deployment.instance, run_id)
        try:
            plan = plan_reexecution(
                deployment.graph(),
                deployment.instance,
                parent,
                from_failure=from_failure,
                system_tags={"bakehouse/launched_by": "cli"},
            )
        except LaunchError as exc:
            raise click.UsageError(str(exc)) from None
        drive_here(deployment, plan, what=f"re-execution of {parent.run_id}", quiet=quiet)


def _add_logs_command() -> None:
    from bakehouse.cli.run_logs import logs

    runs.add_command(logs)


_add_logs_command()

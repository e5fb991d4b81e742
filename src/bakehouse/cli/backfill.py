"""``bh backfill list|show|cancel``, and ``bh launch --partition-range`` carried out here or sent
to a running deployment.

Run here (no deployment running, or --local), a backfill is driven in the foreground by the
daemon's own backfill loop and a run queue of its runs only, with live progress; Ctrl-C cancels
it. The list/show/cancel commands read and write the instance's storage directly, so they work
whether or not a deployment is running (a deployment's daemon picks up a cancel within a second).
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Any

import click

from bakehouse.cli import json_output
from bakehouse.cli.context import foreground_deployment, load_workspace, open_instance
from bakehouse.cli.output import console, format_time, status_text
from bakehouse.errors import BackfillError
from bakehouse.host.discovery import client_headers

if TYPE_CHECKING:
    from rich.console import Console

    from bakehouse.host.backfill_requests import BackfillProgress
    from bakehouse.storage import Instance
    from bakehouse.storage.records import BackfillRecord

POLL_SECONDS = 0.2


def parse_range(text: str) -> tuple[str, str]:
    """``START...END`` (Dagster's syntax) as (start, end)."""
    start, sep, end = text.partition("...")
    if not sep or not start or not end:
        raise click.BadParameter(
            f"{text!r} is not a range: write START...END, e.g. 2024-01-01...2024-01-31",
            param_hint="--partition-range",
        )
    return start, end


def request_through(
    base: str,
    *,
    selection: str,
    partition_range: tuple[str, str],
    tags: dict[str, str],
    run_config: dict[str, Any],
) -> None:
    """Request the backfill from the deployment at `base` and say where to follow it."""
    import httpx

    body = {
        "selection": selection,
        "partition_range": {"start": partition_range[0], "end": partition_range[1]},
        "tags": tags,
        "run_config": run_config,
    }
    try:
        answer = httpx.post(
            f"{base}/api/backfills", json=body, headers=client_headers(), timeout=60
        )
    except httpx.HTTPError as exc:
        raise click.ClickException(f"the deployment at {base} did not answer: {exc}") from None
    if answer.status_code != 201:
        try:
            detail = answer.json().get("detail")
        except ValueError:
            detail = answer.text
        raise click.ClickException(str(detail))
    backfill_id = answer.json()["backfill_id"]
    out = console()
    out.print(f"Backfill [bold]{backfill_id}[/] requested from {base}; its daemon launches it.")
    out.print(f"Follow it with [bold]bh backfill show {backfill_id}[/] or at {base}/backfills")
    if json_output.active():
        json_output.emit({"backfill": {"backfill_id": backfill_id, "status": "REQUESTED"},
                          "deployment": base})  # fmt: skip


def run_here(
    *,
    selection: str,
    partition_range: tuple[str, str],
    tags: dict[str, str],
    run_config: dict[str, Any],
    max_concurrent_runs: int,
    quiet: bool,
) -> None:
    """Request the backfill and drive it to its end from this process (a foreground
    deployment); exit 1 if a partition failed, 130 on Ctrl-C (after canceling the backfill)."""
    from bakehouse.host.backfill_requests import cancel_backfill, request_backfill
    from bakehouse.storage.records import BackfillStatus

    out = console()
    workspace = load_workspace()
    with foreground_deployment(workspace, max_concurrent_runs=max_concurrent_runs) as deployment:
        instance = deployment.instance
        try:
            backfill = request_backfill(
                instance,
                deployment.graph(),
                selection=selection,
                partition_range=partition_range,
                tags=tags,
                run_config=run_config,
                launched_by="cli",
            )
        except BackfillError as exc:
            raise click.UsageError(str(exc)) from None
        backfill_id = backfill.backfill_id
        once = [
            f", {', '.join(assets)} once {when}"
            for assets, when in (
                (backfill.unpartitioned_before, "before"),
                (backfill.unpartitioned_after, "after"),
            )
            if assets
        ]
        out.print(
            f"Backfill [bold]{backfill_id}[/] of [bold]{selection}[/]: "
            f"{len(backfill.partition_keys)} partitions "
            f"({partition_range[0]}...{partition_range[1]}){''.join(once)}"
        )
        deployment.drive_backfill(backfill_id)
        loop = deployment.backfills
        try:
            _follow(instance, loop, backfill_id, out, quiet=quiet)
        except KeyboardInterrupt:
            out.print("[magenta]Canceling the backfill…[/]")
            with contextlib.suppress(BackfillError):  # it may have finished meanwhile
                cancel_backfill(instance, backfill_id)
            while not _current(instance, backfill_id).status.is_finished:
                loop.tick()
                time.sleep(POLL_SECONDS)
        final = _current(instance, backfill_id)
        _print_summary(instance, final, out)
        if json_output.active():
            json_output.emit({"backfill": _as_dict(instance, final, partitions=True)})
        if final.status is BackfillStatus.CANCELED:
            raise SystemExit(130)
        progress = _progress(instance, final)
        raise SystemExit(1 if progress.failed or progress.canceled else 0)


def _current(instance: Instance, backfill_id: str) -> BackfillRecord:
    backfill = instance.get_backfill(backfill_id)
    if backfill is None:
        raise click.ClickException(f"backfill {backfill_id} disappeared from storage")
    return backfill


def _progress(instance: Instance, backfill: BackfillRecord) -> BackfillProgress:
    from bakehouse.host.backfill_requests import backfill_progress

    return backfill_progress(instance, backfill)


def _follow(instance: Instance, loop: Any, backfill_id: str, out: Console, *, quiet: bool) -> None:
    """Tick the backfill loop until the backfill finishes, showing a live progress bar."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    backfill = _current(instance, backfill_id)
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=out, disable=quiet, transient=False) as bar:
        task = bar.add_task(backfill_id, total=len(backfill.claim_rows()), detail="")
        while True:
            loop.tick()
            backfill = _current(instance, backfill_id)
            progress = _progress(instance, backfill)
            done = progress.succeeded + progress.failed + progress.canceled
            detail = f"{progress.in_progress} running, {progress.failed} failed"
            bar.update(task, completed=done, detail=detail)
            if backfill.status.is_finished:
                return
            time.sleep(POLL_SECONDS)


def _print_summary(instance: Instance, backfill: BackfillRecord, out: Console) -> None:
    progress = _progress(instance, backfill)
    out.print(
        f"Backfill [bold]{backfill.backfill_id}[/] {status_text(backfill.status.value)}: "
        f"{progress.succeeded} succeeded, {progress.failed} failed, {progress.canceled} "
        f"canceled, {progress.requested} not launched, of {progress.total} "
        f"{'runs' if len(progress.partitions) > len(backfill.partition_keys) else 'partitions'}"
    )
    for part in progress.partitions:
        if part.run_status is not None and part.run_status.value != "SUCCESS":
            out.print(
                f"  {part.label}: {status_text(part.run_status.value)} (bh runs show {part.run_id})"
            )


# -- bh backfill list | show | cancel ------------------------------------------------------------


def _as_dict(instance: Instance, backfill: BackfillRecord, *, partitions: bool) -> dict[str, Any]:
    progress = _progress(instance, backfill)
    data: dict[str, Any] = {
        "backfill_id": backfill.backfill_id,
        "status": backfill.status.value,
        "status_message": backfill.status_message,
        "selection_query": backfill.selection_query,
        "asset_selection": list(backfill.asset_selection),
        "created_at": backfill.created_at,
        "total": progress.total,
        "requested": progress.requested,
        "in_progress": progress.in_progress,
        "succeeded": progress.succeeded,
        "failed": progress.failed,
        "canceled": progress.canceled,
        "tags": backfill.tags,
    }
    if partitions:
        data["partitions"] = [
            {
                # None for the run of the unpartitioned assets (listed in "assets").
                "partition_key": None if p.assets else p.partition_key,
                "assets": list(p.assets),
                "label": p.label,
                "run_id": p.run_id,
                "run_status": p.run_status.value if p.run_status else None,
            }
            for p in progress.partitions
        ]
    return data


@click.group()
def backfill() -> None:
    """List, inspect and cancel backfills (start one with bh launch --partition-range)."""


@backfill.command("list")
@json_output.option
@click.option("--limit", default=50, show_default=True, help="At most this many, newest first.")
def list_backfills(as_json: bool, limit: int) -> None:
    """Backfills, newest first, with their progress."""
    from bakehouse.storage.records import BackfillRecord

    with open_instance(load_workspace()) as instance:
        listed = instance.get_backfills(limit=limit, include_corrupt=True)
        # A row that cannot be read is marked in its place, never the end of the list.
        every: list[dict[str, Any]] = [
            _as_dict(instance, b, partitions=False)
            if isinstance(b, BackfillRecord)
            else {"backfill_id": b.key, "corrupt": True, "reason": b.reason}
            for b in listed
        ]
    if as_json:
        json_output.emit(every)
        return
    rows = [row for row in every if not row.get("corrupt")]
    for bad in every:
        if bad.get("corrupt"):
            click.echo(
                f"backfill {bad['backfill_id']} cannot be read ({bad['reason']}); "
                "`bh doctor` lists such rows",
                err=True,
            )
    from rich.table import Table

    out = console()
    if not every:
        out.print("No backfills yet. Start one with bh launch --assets SEL --partition-range A...B")
        return
    table = Table("ID", "Status", "Selection", "Partitions", "Done", "Failed", "Created")
    for row in rows:
        done = row["succeeded"] + row["failed"] + row["canceled"]
        table.add_row(
            row["backfill_id"],
            status_text(row["status"]),
            row["selection_query"] or ", ".join(row["asset_selection"]),
            str(row["total"]),
            f"{done}/{row['total']}",
            str(row["failed"]),
            format_time(row["created_at"]),
        )
    out.print(table)


@backfill.command("show")
@click.argument("backfill_id")
@json_output.option
def show_backfill(backfill_id: str, as_json: bool) -> None:
    """A backfill and each partition's run and status."""
    with open_instance(load_workspace()) as instance:
        found = instance.get_backfill(backfill_id)
        if found is None:
            raise click.ClickException(
                f"no backfill with id {backfill_id!r} (see bh backfill list)"
            )
        data = _as_dict(instance, found, partitions=True)
    if as_json:
        json_output.emit(data)
        return
    from rich.table import Table

    out = console()
    out.print(
        f"Backfill [bold]{data['backfill_id']}[/] {status_text(data['status'])} "
        f"of {data['selection_query']}: {data['succeeded']} succeeded, {data['failed']} failed, "
        f"{data['in_progress']} running, {data['requested']} not launched, of {data['total']}"
    )
    if data["status_message"]:
        out.print(f"  {data['status_message']}")
    table = Table("Partition", "Run status", "Run")
    for part in data["partitions"]:
        status = part["run_status"]
        table.add_row(part["label"], status_text(status) if status else "-", part["run_id"] or "-")
    out.print(table)


@backfill.command("cancel")
@click.argument("backfill_id")
@json_output.option
def cancel_command(backfill_id: str, as_json: bool) -> None:
    """Cancel a backfill: no more runs, and its unfinished runs are canceled by the daemon.
    With --json, the backfill as bh backfill show --json prints it."""
    from bakehouse.host.backfill_requests import cancel_backfill

    with open_instance(load_workspace()) as instance:
        try:
            found = cancel_backfill(instance, backfill_id)
        except BackfillError as exc:
            raise click.ClickException(str(exc)) from None
        if as_json:
            json_output.emit(_as_dict(instance, found, partitions=True))
    console().print(
        f"Backfill [bold]{backfill_id}[/] is {status_text(found.status.value)}; the daemon "
        "cancels its unfinished runs."
    )

"""``bh schedule`` and ``bh sensor``: list them with their state, turn them on and off, preview.

On/off state lives in instance storage, so a running daemon picks up a change at its next pass.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import click

from bakehouse.cli import json_output
from bakehouse.cli.completion import location_names
from bakehouse.cli.context import fetch_snapshots, load_workspace, open_instance, workspace_targets
from bakehouse.cli.output import console, format_time, print_load_failure
from bakehouse.daemon.scheduler import effective_status, next_tick, origin_of, set_running
from bakehouse.errors import CorruptRecordError
from bakehouse.protocol.snapshot import LoadFailure, LocationSnap, ScheduleSnap, SensorSnap
from bakehouse.storage.records import (
    CorruptRecord,
    InstigatorState,
    InstigatorStatus,
    InstigatorType,
    TickRecord,
)

if TYPE_CHECKING:
    from bakehouse.project.workspace import Workspace
    from bakehouse.storage import Instance

Item = ScheduleSnap | SensorSnap


def _snapshots() -> list[LocationSnap]:
    results = fetch_snapshots(workspace_targets(load_workspace()))
    loaded = []
    for result in results.values():
        if isinstance(result, LoadFailure):
            print_load_failure(console(stderr=True), result)
        else:
            loaded.append(result)
    return loaded


def _items(kind: InstigatorType) -> list[tuple[LocationSnap, Item]]:
    found: list[tuple[LocationSnap, Item]] = []
    for snap in _snapshots():
        items: tuple[Item, ...] = (
            snap.schedules if kind == InstigatorType.SCHEDULE else snap.sensors
        )
        found.extend((snap, item) for item in items)
    return found


def _find(kind: InstigatorType, name: str, location: str | None) -> tuple[LocationSnap, Item]:
    word = kind.value.lower()
    matches = [
        (snap, item)
        for snap, item in _items(kind)
        if item.name == name and (location is None or snap.name == location)
    ]
    if not matches:
        raise click.ClickException(f"no {word} named '{name}' (see bh {word} list)")
    if len(matches) > 1:
        places = ", ".join(snap.name for snap, _ in matches)
        raise click.ClickException(
            f"{word} '{name}' exists in several locations ({places}); pick one with --location"
        )
    return matches[0]


def _rows(instance: Instance, kind: InstigatorType) -> list[dict[str, Any]]:
    rows = []
    now = time.time()
    for snap, item in _items(kind):
        origin = origin_of(snap.name, item.name)
        state: InstigatorState | None = None
        state_corrupt = None
        try:
            state = instance.get_instigator_state(origin)
        except CorruptRecordError as exc:
            # One unreadable state row spoils only its own line: it shows its default status.
            state_corrupt = exc.reason
        status = effective_status(state, item.default_status)
        ticks = instance.get_ticks(origin, limit=1, include_corrupt=True)
        row: dict[str, Any] = {
            "location": snap.name,
            "name": item.name,
            "status": status.value,
            "default_status": item.default_status,
            "job": item.job_name,
            "last_tick": _tick_dict(ticks[0]) if ticks else None,
        }
        if state_corrupt is not None:
            row["state_corrupt"] = state_corrupt
        if isinstance(item, ScheduleSnap):
            row["cron_schedule"] = item.cron_schedule
            row["execution_timezone"] = item.execution_timezone or "UTC"
            row["next_tick"] = (
                next_tick(item.cron_schedule, item.execution_timezone, now)
                if status == InstigatorStatus.RUNNING
                else None
            )
        else:
            row["kind"] = item.kind
            row["minimum_interval_seconds"] = item.minimum_interval_seconds
            row["cursor"] = state.cursor if state else None
        rows.append(row)
    return rows


def _tick_dict(tick: TickRecord | CorruptRecord) -> dict[str, Any]:
    if isinstance(tick, CorruptRecord):
        return {
            "at": tick.created_at,
            "status": "CORRUPT",
            "corrupt": True,
            "tick_id": int(tick.key),
            "reason": tick.reason,
            "run_ids": [],
            "skip_reason": None,
            "error": f"tick {tick.key} cannot be read ({tick.reason}); `bh doctor` lists such rows",
        }
    return {
        "at": tick.tick_at,
        "status": tick.status.value,
        "run_ids": list(tick.run_ids),
        "skip_reason": tick.skip_reason,
        "error": (tick.error or {}).get("message"),
    }


def _print_rows(rows: list[dict[str, Any]], kind: InstigatorType) -> None:
    from rich.markup import escape
    from rich.table import Table

    out = console()
    word = kind.value.lower()
    if not rows:
        out.print(f"No {word}s are defined. Scaffold one with: bh scaffold defs {word} {word}s.py")
        return
    table = Table()
    columns = ["Location", "Name", "Status", "Job"]
    columns += ["Cron", "Next tick"] if kind == InstigatorType.SCHEDULE else ["Kind", "Interval"]
    columns += ["Last tick"]
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        if "state_corrupt" in row:
            console(stderr=True).print(
                escape(
                    f"{word} {row['name']} ({row['location']}): its stored state cannot be "
                    f"read ({row['state_corrupt']}), so it shows its default; `bh doctor` "
                    "lists such rows"
                )
            )
        colour = "green" if row["status"] == "RUNNING" else "dim"
        last = row["last_tick"]
        last_text = (
            f"{format_time(last['at'])} {last['status']}"
            + (f" ({len(last['run_ids'])} runs)" if last["run_ids"] else "")
            + (f": {last['skip_reason']}" if last["skip_reason"] else "")
            + (f": {last['error']}" if last["error"] else "")
            if last
            else "-"
        )
        cells = [row["location"], row["name"], f"[{colour}]{row['status']}[/]", row["job"] or "-"]
        if kind == InstigatorType.SCHEDULE:
            cells += [
                f"{row['cron_schedule']} ({row['execution_timezone']})",
                format_time(row["next_tick"]),
            ]
        else:
            cells += [row["kind"], f"{row['minimum_interval_seconds']} s"]
        cells.append(escape(last_text))
        table.add_row(*[c if c.startswith("[") else escape(c) for c in cells])
    out.print(table)


def _set_status(
    kind: InstigatorType, name: str, location: str | None, running: bool, as_json: bool
) -> None:
    snap, item = _find(kind, name, location)
    with open_instance(load_workspace()) as instance:
        set_running(
            instance, location=snap.name, name=item.name, type=kind, running=running,
            now=time.time(),
        )  # fmt: skip
        if as_json:
            rows = _rows(instance, kind)
            json_output.emit(
                next(r for r in rows if r["location"] == snap.name and r["name"] == item.name)
            )
    word = "started" if running else "stopped"
    console().print(f"{kind.value.lower().capitalize()} [bold]{name}[/] ({snap.name}) {word}.")


def _group(kind: InstigatorType) -> click.Group:
    word = kind.value.lower()

    @click.group(name=word, help=f"List {word}s, start and stop them.")
    def group() -> None:
        pass

    @group.command("list")
    @json_output.option
    def list_command(as_json: bool) -> None:
        with open_instance(load_workspace()) as instance:
            rows = _rows(instance, kind)
        if as_json:
            json_output.emit(rows)
        else:
            _print_rows(rows, kind)

    list_command.help = f"Each {word}: status (stored, or its default), target job, last tick."

    location_option = click.option(
        "--location", help="The code location, if names repeat.", shell_complete=location_names
    )

    @group.command("start")
    @click.argument("name")
    @location_option
    @json_output.option
    def start(name: str, location: str | None, as_json: bool) -> None:
        _set_status(kind, name, location, True, as_json)

    start.help = (
        f"Turn {word} NAME on; a running daemon evaluates it from its next pass. With --json, "
        f"its row as bh {word} list --json prints it."
    )

    @group.command("stop")
    @click.argument("name")
    @location_option
    @json_output.option
    def stop(name: str, location: str | None, as_json: bool) -> None:
        _set_status(kind, name, location, False, as_json)

    stop.help = f"Turn {word} NAME off. With --json, its row as bh {word} list --json prints it."
    return group


schedule = _group(InstigatorType.SCHEDULE)
sensor = _group(InstigatorType.SENSOR)


@sensor.command("preview")
@click.argument("name")
@click.option(
    "--location", help="The code location, if names repeat.", shell_complete=location_names
)
@click.option("--cursor", help="Evaluate from this cursor instead of the stored one.")
@json_output.option
def preview(name: str, location: str | None, cursor: str | None, as_json: bool) -> None:
    """Evaluate sensor NAME once and show what it would request, launching nothing.

    With --json: ``{"sensor", "location", "from_cursor", "run_requests", "skip_reason",
    "cursor"}``; a sensor that raised is an error document with its traceback.
    """
    from bakehouse.daemon.sensors import sensor_payload
    from bakehouse.host.process import CodeServerProcess

    snap, item = _find(InstigatorType.SENSOR, name, location)
    assert isinstance(item, SensorSnap)
    if item.kind == "automation_condition":
        raise click.ClickException(
            f"sensor '{name}' evaluates automation conditions in the daemon, not in the code "
            "server, so it has no preview; see its evaluations with bh automation list and "
            "bh automation show ASSET"
        )
    workspace = load_workspace()
    if item.kind == "freshness_checks":
        _preview_freshness_sensor(workspace, snap.name, item, as_json)
        return
    target = workspace_targets(workspace)[snap.name]
    with open_instance(workspace) as instance:
        state = instance.get_instigator_state(origin_of(snap.name, name))
        start_cursor = cursor if cursor is not None else (state.cursor if state else None)
        payload, start_cursor = sensor_payload(instance, item, start_cursor, time.time())
    server = CodeServerProcess(target)
    try:
        server.start()
        answer = server.evaluate_sensor(
            name,
            cursor=start_cursor,
            last_tick_at=state.last_tick_at if state else None,
            payload=payload,
        )
    finally:
        server.stop()
    out = console()
    if answer.get("error"):
        from bakehouse.cli.output import print_error
        from bakehouse.errors import ErrorInfo

        error = ErrorInfo.from_dict(answer["error"])
        print_error(out, error, title=f"Sensor {name} raised")
        if as_json:
            json_output.fail(error.cls_name, error.message, 1, traceback=error.render())
        raise SystemExit(1)
    requests = answer.get("run_requests") or []
    if as_json:
        json_output.emit(
            {
                "sensor": name,
                "location": snap.name,
                "from_cursor": start_cursor,
                "run_requests": requests,
                "skip_reason": answer.get("skip_reason"),
                "cursor": answer.get("cursor"),
            }
        )
        return
    out.print(f"Sensor [bold]{name}[/] from cursor {start_cursor!r}:")
    for request in requests:
        target_text = request.get("job_name") or ", ".join(request.get("asset_selection") or [])
        out.print(f"  run request key={request.get('run_key')!r} → {target_text}")
    if not requests:
        out.print(f"  skipped: {answer.get('skip_reason') or 'no run requests'}")
    out.print(f"New cursor: {answer.get('cursor')!r} (not saved: this is a preview)")


def _preview_freshness_sensor(
    workspace: Workspace, location: str, sensor: SensorSnap, as_json: bool
) -> None:
    """What a freshness checks sensor would run now, decided from storage as the daemon does."""
    from bakehouse.daemon.freshness_checks import checks_to_run

    with open_instance(workspace) as instance:
        chosen, why = checks_to_run(instance, sensor, time.time())
    if as_json:
        json_output.emit(
            {"sensor": sensor.name, "location": location, "would_run": chosen, "why": why}
        )
        return
    out = console()
    out.print(f"Sensor [bold]{sensor.name}[/] (freshness checks, decided from storage):")
    for check, reason in why.items():
        mark = "run " if check in chosen else "wait"
        out.print(f"  {mark} {check}: {reason}")

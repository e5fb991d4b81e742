"""``bh launch``: materialize a selection in a run worker and follow it live."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bakehouse.cli.context import open_instance, project_target
from bakehouse.cli.output import console, format_duration, print_load_failure
from bakehouse.cli.progress import RunFollower
from bakehouse.errors import SelectionError
from bakehouse.location.client import LocationTarget, fetch_snapshot, spawn_run_worker
from bakehouse.location.global_graph import GlobalAssetGraph
from bakehouse.location.snapshot import LoadFailure
from bakehouse.storage.records import EventRecord, EventType, RunRecord

if TYPE_CHECKING:
    from bakehouse.storage import Instance

POLL_SECONDS = 0.05


def _parse_config(config_json: str | None, config_file: Path | None) -> dict[str, Any]:
    if config_json and config_file:
        raise click.UsageError("give --config-json or --config, not both")
    text = config_json if config_json else (config_file.read_text() if config_file else None)
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        where = str(config_file) if config_file else "--config-json"
        raise click.BadParameter(f"{where}: not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise click.BadParameter('run config must be a JSON object like {"ops": {...}}')
    return value


def _parse_tags(tags: tuple[str, ...]) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for tag in tags:
        key, eq, value = tag.partition("=")
        if not eq or not key:
            raise click.BadParameter(f"tag {tag!r} must look like key=value", param_hint="--tag")
        parsed[key] = value
    return parsed


def _resolve(target: LocationTarget, selection: str | None, job_name: str | None) -> list[str]:
    """The keys to materialize, checked against the location's snapshot before any run exists."""
    snap = fetch_snapshot(target)
    if isinstance(snap, LoadFailure):
        print_load_failure(console(), snap)
        raise SystemExit(1)
    graph = GlobalAssetGraph([snap])
    try:
        if job_name:
            return list(graph.find_job(job_name)[1].asset_keys)
        return graph.select(selection or "")
    except SelectionError as exc:
        raise click.UsageError(str(exc)) from None


def _store(instance: Instance, run_id: str, event_type: EventType, message: str, **kw: Any) -> None:
    instance.store_event(
        EventRecord(
            run_id=run_id, event_type=event_type, timestamp=time.time(), message=message, **kw
        )
    )


@click.command()
@click.option(
    "--assets",
    "selection",
    metavar="SELECTION",
    help="Assets to materialize: '*', 'name', 'a/b', 'name+', '+name', 'group:x', 'a, b'.",
)
@click.option(
    "--config-json", help='Run config as JSON: \'{"ops": {"asset": {"config": {...}}}}\'.'
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Run config from a JSON file.",
)
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE", help="Tag the run (repeatable).")
@click.option("--job", "job_name", metavar="NAME", help="Run a job defined in the project.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the final summary.")
def launch(
    selection: str | None,
    job_name: str | None,
    config_json: str | None,
    config_file: Path | None,
    tags: tuple[str, ...],
    quiet: bool,
) -> None:
    """Materialize --assets SELECTION (or a --job) now, showing each step as it runs.

    Exits 1 if the run fails.
    """
    if bool(selection) == bool(job_name):
        raise click.UsageError("give either --assets SELECTION or --job NAME")
    settings, target = project_target()
    run_config = _parse_config(config_json, config_file)
    asset_keys = _resolve(target, selection, job_name)
    run_tags = {
        "bakehouse/launched_by": "cli",
        "bakehouse/user": os.environ.get("USER", ""),
        **_parse_tags(tags),
    }
    out = console()
    with open_instance(settings) as instance:
        run_id = str(uuid.uuid4())
        instance.create_run(
            RunRecord(
                run_id=run_id,
                selection_query=selection,
                asset_selection=tuple(asset_keys),
                job_name=job_name,
                location_name=target.name,
                tags=run_tags,
                run_config=run_config,
            )
        )
        home = instance.home or settings.home
        log_path = home / "logs" / f"{run_id}.log"
        worker = spawn_run_worker(
            target,
            run_id=run_id,
            storage_url=instance.url,
            storage_dir=instance.storage_dir,
            log_path=log_path,
        )
        _store(
            instance,
            run_id,
            EventType.RUN_STARTING,
            f"Started run worker (pid {worker.pid}) with {target.python}.",
            data={"pid": worker.pid, "python": target.python, "log": str(log_path)},
        )
        what = f"job {job_name}" if job_name else selection
        out.print(f"Run [bold]{run_id}[/] of [bold]{what}[/] in location {target.name}")
        follower = RunFollower(out, quiet=quiet)
        try:
            _follow(instance, run_id, worker, follower, log_path)
        except KeyboardInterrupt:
            _cancel(instance, run_id, worker)
            out.print("[magenta]Run canceled.[/]")
            raise SystemExit(130) from None
        finally:
            follower.close()
        run = instance.get_run(run_id)
        follower.print_summary(run, instance.get_events(run_id), log_path)
        raise SystemExit(0 if run.status.value == "SUCCESS" else 1)


def _follow(
    instance: Instance,
    run_id: str,
    worker: subprocess.Popen[bytes],
    follower: RunFollower,
    log_path: Path,
) -> None:
    cursor = 0
    while True:
        events = instance.get_events(run_id, after_storage_id=cursor)
        for event in events:
            follower.handle(event)
            cursor = event.storage_id or cursor
        if instance.get_run(run_id).status.is_finished:
            worker.wait()
            return
        code = worker.poll()
        if code is not None:
            # The worker exited; read once more in case its last events landed just now.
            for event in instance.get_events(run_id, after_storage_id=cursor):
                follower.handle(event)
                cursor = event.storage_id or cursor
            if not instance.get_run(run_id).status.is_finished:
                tail = _tail(log_path)
                _store(
                    instance,
                    run_id,
                    EventType.RUN_FAILURE,
                    f"Run worker exited with code {code} before the run finished."
                    + (f"\n{tail}" if tail else ""),
                    level="ERROR",
                    data={"exit_code": code},
                )
                for event in instance.get_events(run_id, after_storage_id=cursor):
                    follower.handle(event)
            return
        time.sleep(POLL_SECONDS)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _cancel(instance: Instance, run_id: str, worker: subprocess.Popen[bytes]) -> None:
    started = time.monotonic()
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=5)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    if not instance.get_run(run_id).status.is_finished:
        _store(
            instance,
            run_id,
            EventType.RUN_CANCELED,
            f"Run canceled from the terminal after {format_duration(time.monotonic() - started)}.",
            level="WARNING",
        )

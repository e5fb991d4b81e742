"""``bh worker start|list``: Celery step workers of a code location, and the ones the
deployment sees.

``start`` becomes (exec) the worker process in the location's own interpreter, as code servers
run, so steps get the location's code and packages; ``list`` reads the workers' heartbeats from
storage, wherever the workers run.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import click

from bakehouse.cli import json_output
from bakehouse.cli.completion import location_names
from bakehouse.cli.context import load_workspace, open_instance, open_instance_here
from bakehouse.cli.output import console, format_time, status_text
from bakehouse.host.client import target_for_project


@click.group()
def worker() -> None:
    """Celery workers that execute the steps of runs using the celery executor."""


@worker.command("start")
@click.option(
    "--location",
    "location",
    shell_complete=location_names,
    help="The code location whose steps it executes (default: the project here, or the "
    "workspace's only one).",
)
@click.option(
    "-q",
    "--queue",
    "queues",
    multiple=True,
    help="A queue to take steps from (repeatable; default: the location's name).",
)
@click.option(
    "--concurrency", type=click.IntRange(min=1), help="Steps at once (default: CPU count)."
)
@click.option(
    "--heartbeat-interval",
    type=click.FloatRange(min=0.1),
    default=2.0,
    show_default=True,
    help="Seconds between the worker's heartbeats to storage.",
)
def start(
    location: str | None,
    queues: tuple[str, ...],
    concurrency: int | None,
    heartbeat_interval: float,
) -> None:
    """Start a worker for a code location, in the location's own Python (its .venv).

    It stores its heartbeats where the deployment's runs are (BAKEHOUSE_STORAGE_URL, else the
    workspace's .bakehouse/) and takes the broker from the location's celery executor, else
    from [tool.bakehouse.executor].
    """
    workspace = load_workspace()
    projects = workspace.projects
    if location is not None:
        chosen = [p for p in projects if p.location_name == location]
        if not chosen:
            names = ", ".join(p.location_name for p in projects) or "none"
            raise click.ClickException(f"no code location named '{location}' (locations: {names})")
    else:
        here = load_workspace(here_only=True).projects
        chosen = list(here) if len(here) == 1 else list(projects)
        if len(chosen) != 1:
            names = ", ".join(p.location_name for p in projects)
            raise click.ClickException(f"name the code location with --location ({names})")
    project = chosen[0]
    target = target_for_project(project)
    with open_instance(workspace) as instance:
        storage_url, storage_dir = instance.url, str(instance.storage_dir)
    cmd = [
        target.python,
        "-m",
        "bakehouse_celery.worker",
        "--location",
        target.name,
        *target.module_args(),
        "--storage-url",
        storage_url,
        "--storage-dir",
        storage_dir,
        "--heartbeat-interval",
        str(heartbeat_interval),
    ]
    for queue in queues:
        cmd += ["-q", queue]
    if concurrency:
        cmd += ["--concurrency", str(concurrency)]
    if project.executor is not None:
        cmd += ["--executor", json.dumps(project.executor)]
    console(stderr=True).print(
        f"Starting a worker for location '{target.name}' with {target.python}"
    )
    os.chdir(target.root)
    # Become the worker: signals (Ctrl-C, SIGTERM from a supervisor) reach it directly.
    os.execve(target.python, cmd, target.process_env())


@worker.command("list")
@json_output.option
def list_workers(as_json: bool) -> None:
    """The workers the deployment sees: host, location, queues, active steps, last heartbeat.

    With --json: one object per worker (status LIVE, LOST or STOPPED).
    """
    from bakehouse.host.workers import worker_rows

    with open_instance_here() as instance:
        rows = worker_rows(instance)
    if as_json:
        json_output.emit(rows)
        return
    _print(rows)


def _print(rows: list[dict[str, Any]]) -> None:
    from rich.markup import escape
    from rich.table import Table

    out = console()
    if not rows:
        out.print("No workers have heartbeated in the last day (start one: bh worker start)")
        return
    table = Table()
    for column in ("Worker", "Status", "Host", "Location", "Queues", "Active steps", "Heartbeat"):
        table.add_column(column, overflow="fold")
    now = time.time()
    for row in rows:
        active = ", ".join(
            f"{s['step_key']} (run {str(s['run_id'])[:8]}, attempt {s['attempt']})"
            for s in row["active_steps"]
        )
        table.add_row(
            escape(row["worker_id"]),
            status_text(row["status"]),
            escape(row["hostname"]),
            escape(row["location"] or "-"),
            escape(", ".join(row["queues"])),
            escape(active or "-"),
            f"{format_time(row['last_heartbeat_at'])} ({now - row['last_heartbeat_at']:.0f} s ago)",
        )
    out.print(table)

"""What every project command needs: the workspace, its code locations and its instance."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bakehouse.errors import ProjectError
from bakehouse.host.client import LocationTarget, fetch_snapshot, target_for_project
from bakehouse.project.code_server_settings import LoadLimit
from bakehouse.project.workspace import Workspace, find_workspace
from bakehouse.protocol.snapshot import LoadFailure, LocationSnap

# storage.instance.ENV_HOME, spelled here: importing it would load SQLAlchemy (most of a second)
# into commands that only ask whether a deployment is running.
ENV_HOME = "BAKEHOUSE_HOME"

if TYPE_CHECKING:
    from bakehouse.host.deployment import Deployment
    from bakehouse.storage import Instance


def load_workspace(directory: Path | None = None, *, here_only: bool = False) -> Workspace:
    """The workspace at or above `directory` (default: here), or a clean exit.

    Inside a project that a workspace lists, that is the workspace (its instance, its running
    deployment); `here_only` narrows it to that project, for commands about its code alone.
    """
    try:
        workspace = find_workspace(directory or Path.cwd())
    except ProjectError as exc:
        raise click.ClickException(str(exc)) from None
    return workspace.only_here() if here_only else workspace


def instance_home(workspace: Workspace | None) -> Path:
    """Where the workspace's instance lives: BAKEHOUSE_HOME, else its ``.bakehouse/``."""
    default = workspace.home if workspace else Path.cwd() / ".bakehouse"
    return Path(os.environ.get(ENV_HOME) or default).absolute()


def deployment_url(url: str | None, workspace: Workspace | None = None) -> str | None:
    """The deployment a command goes through: `url` if given, else the one running for the
    workspace around here (`workspace`, default: found from the working directory), if any."""
    if url:
        return url.rstrip("/")
    from bakehouse.host.discovery import find_running_deployment

    return find_running_deployment(instance_home(workspace or load_workspace()))


def workspace_targets(workspace: Workspace) -> dict[str, LocationTarget]:
    """Each code location of the workspace, by name."""
    limit = workspace.load_limit
    return {p.location_name: target_for_project(p, limit) for p in workspace.projects}


def fetch_snapshots(
    targets: dict[str, LocationTarget],
    *,
    meanwhile: Callable[[], object] | None = None,
    on_result: Callable[[str, LocationSnap | LoadFailure], object] | None = None,
    limit: LoadLimit | None = None,
) -> dict[str, LocationSnap | LoadFailure]:
    """Load every location once, in parallel, each in its own interpreter; call `meanwhile`
    here while they load (this process mostly waits for them), and `on_result` (under a lock)
    as each one finishes. A location still loading after `limit` (else its own limit) fails
    with the stack it was stuck in."""
    results: dict[str, LocationSnap | LoadFailure] = {}
    lock = threading.Lock()

    def load(name: str) -> None:
        result = fetch_snapshot(targets[name], limit=limit)
        with lock:
            results[name] = result
            if on_result is not None:
                on_result(name, result)

    threads = [threading.Thread(target=load, args=(name,)) for name in targets]
    for thread in threads:
        thread.start()
    try:
        if meanwhile is not None:
            meanwhile()
    finally:
        for thread in threads:
            thread.join()
    return {name: results[name] for name in sorted(results)}


def open_instance(workspace: Workspace | None) -> Instance:
    """The workspace's instance (``.bakehouse/``, or what BAKEHOUSE_HOME / _STORAGE_URL say)."""
    from bakehouse.storage import Instance

    durability = workspace.durability if workspace is not None else None
    return Instance.from_env(instance_home(workspace), durability=durability)


def open_instance_here() -> Instance:
    """The instance of the workspace around the working directory, if any, else ``./.bakehouse``.

    Commands that only read runs work outside a project too, with BAKEHOUSE_HOME set.
    """
    try:
        workspace: Workspace | None = find_workspace(Path.cwd())
    except ProjectError:
        workspace = None
    return open_instance(workspace)


@contextlib.contextmanager
def foreground_deployment(
    workspace: Workspace, *, max_concurrent_runs: int | None = None
) -> Iterator[Deployment]:
    """The workspace's deployment in foreground mode (no server, no daemon loops), its code
    locations loaded; one that failed to load is printed and the command exits 1."""
    from bakehouse.cli.output import console, print_error
    from bakehouse.host.deployment import Deployment

    with (
        open_instance(workspace) as instance,
        Deployment.foreground(
            workspace, instance, max_concurrent_runs=max_concurrent_runs
        ) as deployment,
    ):
        failed = deployment.failed_locations()
        from bakehouse.cli import json_output

        if failed and json_output.active():
            # stdout carries one document; the tracebacks are in it.
            console().print(f"[red]{len(failed)} code locations failed to load[/]")
            first = failed[0]
            json_output.fail(
                "LocationLoadError",
                f"code location '{first.name}' failed to load: "
                + (first.error.message if first.error else first.status.value),
                1,
                locations=[
                    {
                        "name": s.name,
                        "status": s.status.value,
                        "error": s.error.to_dict() if s.error else None,
                    }
                    for s in failed
                ],
            )
        for state in failed:
            title = f"Code location '{state.name}' failed to load"
            if state.error is not None:
                print_error(console(), state.error, title=title)
            else:
                console().print(f"[red bold]✗ {title}[/] ({state.status.value})")
        if failed:
            raise SystemExit(1)
        from bakehouse.cli.output import print_module_errors

        for state in deployment.locations():
            if state.snapshot is not None and state.snapshot.module_errors:
                # defs_errors = "isolate": what does not need the failed modules still runs
                # (a launch that needs them is refused by name); say what was left out.
                print_module_errors(
                    console(stderr=True),
                    state.name,
                    state.snapshot.module_errors,
                    tracebacks=False,
                )
        yield deployment

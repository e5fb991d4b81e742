"""``bh launch``: materialize a selection through run workers and follow it live.

The selection is resolved against the snapshots of every code location of the workspace, so it
may cross locations; the run then executes location by location, each in its own interpreter.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bakehouse.cli.context import fetch_snapshots, load_workspace, open_instance, workspace_targets
from bakehouse.cli.output import console, print_load_failure
from bakehouse.cli.progress import RunFollower
from bakehouse.errors import ErrorInfo, SelectionError, StorageError
from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.host.run_coordinator import RunCoordinator
from bakehouse.protocol.snapshot import LoadFailure, LocationSnap
from bakehouse.protocol.wire import EXECUTOR_TAG
from bakehouse.storage.records import EventRecord, EventType

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


def _graph(results: dict[str, LocationSnap | LoadFailure]) -> GlobalAssetGraph:
    failures = [r for r in results.values() if isinstance(r, LoadFailure)]
    if failures:
        for failure in failures:
            print_load_failure(console(), failure)
        raise SystemExit(1)
    return GlobalAssetGraph([r for r in results.values() if isinstance(r, LocationSnap)])


def _resolve(graph: GlobalAssetGraph, selection: str | None, job_name: str | None) -> list[str]:
    """The keys to materialize, checked against the snapshots before any run exists."""
    try:
        if job_name:
            return list(graph.find_job(job_name)[1].asset_keys)
        return graph.select(selection or "")
    except SelectionError as exc:
        raise click.UsageError(str(exc)) from None


@click.command()
@click.option(
    "--assets",
    "selection",
    metavar="SELECTION",
    help="Assets to materialize: '*', 'name', 'a/b', 'name+', '+name', 'group:x', 'a, b'.",
)
@click.option("--job", "job_name", metavar="NAME", help="Run a job defined in the project.")
@click.option("--config-json", help='Run config as JSON: \'{"ops": {"asset": {"config": {}}}}\'.')
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Run config from a JSON file.",
)
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE", help="Tag the run (repeatable).")
@click.option(
    "--partition",
    "partition_key",
    metavar="KEY",
    help="The partition of the partitioned assets to materialize (e.g. 2024-01-07).",
)
@click.option(
    "--partition-range",
    "partition_range",
    metavar="START...END",
    help="Backfill these partitions (both ends included): one run per partition, through the "
    "running deployment's daemon, else driven from here.",
)
@click.option(
    "--max-concurrent-runs",
    default=4,
    show_default=True,
    help="With --partition-range run here: partitions run at once.",
)
@click.option(
    "--executor",
    type=click.Choice(["in_process", "multiprocess"]),
    help="Execute steps in the run worker's process, or in parallel worker processes "
    "(default: the project's executor, else multiprocess).",
)
@click.option("--quiet", "-q", is_flag=True, help="Print only the final summary.")
@click.option("--url", help="Launch through the deployment at this URL.")
@click.option(
    "--local",
    is_flag=True,
    help="Run here even if a deployment (bh dev) is running for this workspace.",
)
def launch(
    selection: str | None,
    job_name: str | None,
    config_json: str | None,
    config_file: Path | None,
    tags: tuple[str, ...],
    partition_key: str | None,
    partition_range: str | None,
    max_concurrent_runs: int,
    executor: str | None,
    quiet: bool,
    url: str | None,
    local: bool,
) -> None:
    """Materialize --assets SELECTION (or a --job) now, showing each step as it runs.

    When a deployment (bh dev) runs for this workspace, the run goes through it (its queue and
    UI see it); otherwise, or with --local, run workers are started from here. Exits 1 if the
    run fails.
    """
    if bool(selection) == bool(job_name):
        raise click.UsageError("give either --assets SELECTION or --job NAME")
    if url and local:
        raise click.UsageError("give --url or --local, not both")
    workspace = load_workspace()
    run_config = _parse_config(config_json, config_file)
    # The choice travels as a run tag, so it reaches the run worker by any path (here, or a
    # deployment's queue).
    given_tags = {**_parse_tags(tags), **({EXECUTOR_TAG: executor} if executor else {})}
    if partition_range is not None:
        _backfill(
            selection, job_name, partition_key, partition_range, given_tags, run_config,
            url=url, local=local, max_concurrent_runs=max_concurrent_runs, quiet=quiet,
        )  # fmt: skip
        return
    if not local:
        from bakehouse.host.discovery import find_running_deployment

        base = url.rstrip("/") if url else find_running_deployment(workspace.home)
        if base is not None:
            from bakehouse.cli.launch_remote import launch_through

            launch_through(
                base,
                selection=selection,
                job_name=job_name,
                tags=given_tags,
                run_config=run_config,
                partition_key=partition_key,
                quiet=quiet,
            )
            return
    targets = workspace_targets(workspace)
    graph = _graph(fetch_snapshots(targets, meanwhile=_warm_imports))
    keys = _resolve(graph, selection, job_name)
    _check_partition(graph, keys, partition_key)
    run_tags = {
        "bakehouse/launched_by": "cli",
        "bakehouse/user": os.environ.get("USER", ""),
        **given_tags,
    }
    out = console()
    with open_instance(workspace) as instance:
        log_dir = (instance.home or workspace.home) / "logs"
        coordinator = RunCoordinator(instance, targets, log_dir=log_dir)
        run = coordinator.create_run(
            graph,
            keys,
            selection_query=selection,
            job_name=job_name,
            tags=run_tags,
            run_config=run_config,
            partition_key=partition_key,
        )
        what = f"job {job_name}" if job_name else str(selection)
        what += f" [partition {partition_key}]" if partition_key else ""
        where = run.location_name or run.tags.get("bakehouse/locations", "")
        out.print(f"Run [bold]{run.run_id}[/] of [bold]{what}[/] in {where}")
        steps = len(
            {graph.assets[k].node.step_key for k in keys}
            # Checks of these assets that their run evaluates (those of the same location).
            | {
                c.check.step_key
                for k in keys
                for c in graph.checks.get(k, ())
                if c.location == graph.location_of(k)
            }
        )
        follower = RunFollower(out, quiet=quiet, total=steps)
        driver = _Driver(coordinator, run.run_id, graph)
        driver.start()
        try:
            _follow(instance, run.run_id, driver, follower)
        except KeyboardInterrupt:
            driver.cancel()
            follower.close()
            out.print("[magenta]Run canceled.[/]")
            raise SystemExit(130) from None
        finally:
            follower.close()
        final = instance.get_run(run.run_id)
        follower.print_summary(
            final, instance.get_events(run.run_id), log_dir / f"{run.run_id}.log"
        )
        raise SystemExit(0 if final.status.value == "SUCCESS" else 1)


def _backfill(
    selection: str | None,
    job_name: str | None,
    partition_key: str | None,
    partition_range: str,
    tags: dict[str, str],
    run_config: dict[str, Any],
    *,
    url: str | None,
    local: bool,
    max_concurrent_runs: int,
    quiet: bool,
) -> None:
    """``--partition-range``: a backfill, through a running deployment or driven from here."""
    from bakehouse.cli.backfill import parse_range, request_through, run_here

    if job_name or not selection:
        raise click.UsageError("--partition-range backfills --assets SELECTION (not a --job)")
    if partition_key is not None:
        raise click.UsageError("give --partition KEY or --partition-range START...END, not both")
    if run_config:
        raise click.UsageError("--partition-range does not take run config yet")
    span = parse_range(partition_range)
    if not local:
        from bakehouse.host.discovery import find_running_deployment

        base = url.rstrip("/") if url else find_running_deployment(load_workspace().home)
        if base is not None:
            request_through(base, selection=selection, partition_range=span, tags=tags)
            return
    run_here(selection=selection, partition_range=span, tags=tags,
             max_concurrent_runs=max_concurrent_runs, quiet=quiet)  # fmt: skip


def _warm_imports() -> None:
    """Import storage (SQLAlchemy: ~150 ms) and rich while the code servers load, not after."""
    import rich.console  # noqa: F401

    import bakehouse.storage.instance  # noqa: F401


def _check_partition(graph: GlobalAssetGraph, keys: list[str], partition_key: str | None) -> None:
    """Refuse a partition for unpartitioned assets, or partitioned assets without one; whether
    the key exists is the run worker's to check, with the code."""
    partitioned = [k for k in keys if graph.assets[k].node.partitions is not None]
    if partition_key is not None and not partitioned:
        raise click.UsageError(f"--partition {partition_key}: no selected asset is partitioned")
    if partition_key is None and partitioned:
        raise click.UsageError(
            f"{', '.join(partitioned)} {'is' if len(partitioned) == 1 else 'are'} partitioned: "
            "give --partition KEY"
        )


class _Driver(threading.Thread):
    """Runs the coordinator in the background so the terminal can follow the events."""

    def __init__(self, coordinator: RunCoordinator, run_id: str, graph: GlobalAssetGraph) -> None:
        super().__init__(name="run-driver", daemon=True)
        self.coordinator = coordinator
        self.run_id = run_id
        self.graph = graph
        self.error: ErrorInfo | None = None

    def run(self) -> None:
        try:
            self.coordinator.execute(self.run_id, self.graph)
        except Exception as exc:  # noqa: BLE001 - reported as the run's failure
            self.error = ErrorInfo.from_exception(exc)
            self.coordinator.instance.store_event(
                EventRecord(
                    run_id=self.run_id,
                    event_type=EventType.RUN_FAILURE,
                    timestamp=time.time(),
                    message=f"Run {self.run_id} failed in the launcher: {self.error.message}",
                    level="ERROR",
                    data={"error": self.error.to_dict()},
                )
            )

    def cancel(self) -> None:
        """Stop the current worker and record the run as canceled."""
        self.coordinator.cancel(self.run_id, "Run canceled from the terminal.")
        self.join(timeout=10)


def _follow(instance: Instance, run_id: str, driver: _Driver, follower: RunFollower) -> None:
    cursor = 0
    while True:
        finished = not driver.is_alive()
        try:
            events = instance.get_events(run_id, after_storage_id=cursor)
        except StorageError:
            # Storage is out of reach for now (a lost connection): the driver records the
            # run's end once it is back; following resumes from the cursor then.
            if finished:
                raise
            events = []
        for event in events:
            follower.handle(event)
            cursor = event.storage_id or cursor
        if finished:
            return
        # Wakes as soon as the run ends, rather than a whole poll later.
        driver.join(POLL_SECONDS)

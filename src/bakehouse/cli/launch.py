"""``bh launch``: materialize a selection through run workers and follow it live.

The selection is resolved against the snapshots of every code location of the workspace, so it
may cross locations; the run then executes location by location, each in its own interpreter.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from bakehouse.cli import json_output
from bakehouse.cli.context import deployment_url, foreground_deployment, load_workspace
from bakehouse.cli.run_here import drive_here
from bakehouse.errors import LaunchError
from bakehouse.protocol.wire import EXECUTOR_TAG

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
    type=click.Choice(["in_process", "multiprocess", "celery"]),
    help="Execute steps in the run worker's process, in parallel worker processes, or as "
    "Celery tasks on `bh worker` workers (default: the project's executor, else multiprocess).",
)
@click.option("--quiet", "-q", is_flag=True, help="Print only the final summary.")
@click.option("--url", help="Launch through the deployment at this URL.")
@click.option(
    "--local",
    is_flag=True,
    help="Run here even if a deployment (bh dev) is running for this workspace.",
)
@json_output.option
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
    as_json: bool,
) -> None:
    """Materialize --assets SELECTION (or a --job) now, showing each step as it runs.

    When a deployment (bh dev) runs for this workspace, the run goes through it (its queue and
    UI see it); otherwise, or with --local, run workers are started from here. Exits 1 if the
    run fails. With --json, progress goes to stderr and stdout gets the run's outcome:
    ``{"run", "materialized", "failed_steps", "skipped_steps", "checks", "run_failure"}``
    (a backfill: ``{"backfill": ...}``); docs/cli.md.
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
        base = deployment_url(url, workspace)
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
    run_tags = {"bakehouse/launched_by": "cli", "bakehouse/user": os.environ.get("USER", "")}
    from bakehouse.host.launching import plan_run

    with foreground_deployment(workspace) as deployment:
        instance = deployment.instance
        try:
            plan = plan_run(
                deployment.graph(),
                dynamic_keys=instance.get_dynamic_partitions,
                selection=selection,
                job_name=job_name,
                partition_key=partition_key,
                run_config=run_config,
                tags=given_tags,
                system_tags=run_tags,
            )
        except LaunchError as exc:
            raise click.UsageError(str(exc)) from None
        what = f"job {job_name}" if job_name else str(selection)
        what += f" [partition {partition_key}]" if partition_key else ""
        drive_here(deployment, plan, what=what, quiet=quiet)


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
    span = parse_range(partition_range)
    if not local:
        base = deployment_url(url)
        if base is not None:
            request_through(
                base, selection=selection, partition_range=span, tags=tags, run_config=run_config
            )
            return
    run_here(selection=selection, partition_range=span, tags=tags, run_config=run_config,
             max_concurrent_runs=max_concurrent_runs, quiet=quiet)  # fmt: skip

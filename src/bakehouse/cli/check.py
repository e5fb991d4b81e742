"""``bh check defs``: load each code location and report its definitions or its error."""

from __future__ import annotations

import time
from dataclasses import replace

import click

from bakehouse.cli import json_output
from bakehouse.cli.context import fetch_snapshots, load_workspace, workspace_targets
from bakehouse.cli.output import (
    console,
    module_errors_json,
    plural,
    print_load_failure,
    print_module_errors,
)
from bakehouse.project.code_server_settings import LoadLimit
from bakehouse.project.workspace import Workspace
from bakehouse.protocol.snapshot import LoadFailure, LocationSnap


@click.group()
def check() -> None:
    """Check a project or workspace."""


def _add_settings() -> None:
    # `bh check settings` lives beside the settings it reads.
    from bakehouse.cli.settings import check_settings

    check.add_command(check_settings)


_add_settings()


def counts(snap: LocationSnap) -> dict[str, int]:
    """What a location defines, counted by kind (the JSON of ``bh check defs``)."""
    runnable = sum(1 for a in snap.assets if not a.is_external)
    return {
        "assets": runnable,
        "external_assets": len(snap.assets) - runnable,
        "asset_checks": len(snap.asset_checks),
        "jobs": len(snap.jobs),
        "schedules": len(snap.schedules),
        "sensors": len(snap.sensors),
        "resources": len(snap.resources),
    }


def summary(snap: LocationSnap) -> str:
    """Counts of what a location defines, in words."""
    runnable = sum(1 for a in snap.assets if not a.is_external)
    external = len(snap.assets) - runnable
    return ", ".join(
        [
            plural(runnable, "asset") + (f" (+{external} external)" if external else ""),
            plural(len(snap.asset_checks), "asset check"),
            plural(len(snap.jobs), "job"),
            plural(len(snap.schedules), "schedule"),
            plural(len(snap.sensors), "sensor"),
            plural(len(snap.resources), "resource"),
        ]
    )


def _print_settings_warnings(workspace: Workspace) -> list[str]:
    from rich.markup import escape

    from bakehouse.project.settings import settings_warnings

    configs = [] if workspace.is_single_project else [workspace.config_file]
    configs += [p.pyproject for p in workspace.projects]
    warnings = [warning for config in configs for warning in settings_warnings(config)]
    for warning in warnings:
        console().print(f"[yellow]! {escape(warning)}[/] (see bh check settings)")
    return warnings


def _print_unplaced_checks(snaps: list[LocationSnap]) -> list[str]:
    """Warn of checks whose asset no location defines; Dagster loads them too (the asset may be
    added later), so they warn rather than fail."""
    from rich.markup import escape

    from bakehouse.cli.output import relpath
    from bakehouse.host.global_graph import GlobalAssetGraph

    warnings: list[str] = []
    if not any(snap.asset_checks for snap in snaps):
        return warnings  # nothing to place: no graph to build (a third of a second at 50,000)
    for placed in GlobalAssetGraph(snaps).checks_of_missing_assets():
        check = placed.check
        where = f"{relpath(check.source_file)}:{check.source_line}: " if check.source_file else ""
        warning = (
            f"{where}asset check '{check.name}' (code location {placed.location}) checks asset "
            f"'{check.asset_key}', which no code location defines, so no run evaluates it"
        )
        console().print(f"[yellow]! {escape(warning)}[/]")
        warnings.append(warning)
    return warnings


def _report_key_clashes(
    workspace: Workspace, results: dict[str, LocationSnap | LoadFailure], warnings: list[str]
) -> list[LoadFailure]:
    """Report asset keys two locations define: the later location (in workspace order) fails,
    or with allow_duplicate_asset_keys each conflict is a warning (added to `warnings`).
    Returns the failures."""
    from rich.markup import escape

    from bakehouse.host import key_clashes

    earlier: list[LocationSnap] = []
    failed: list[LoadFailure] = []
    for project in workspace.projects:
        snap = results.get(project.location_name)
        if not isinstance(snap, LocationSnap):
            continue
        found = key_clashes.clashes(snap, earlier)
        if found and workspace.allow_duplicate_asset_keys:
            for clash in found:
                warning = (
                    f"conflict: {key_clashes.describe(clash)}; "
                    f"'{min(clash.location, clash.other_location)}' materializes it "
                    f"({key_clashes.SETTING} is set)"
                )
                console().print(f"[yellow]! {escape(warning)}[/]")
                warnings.append(warning)
        elif found:
            failure = LoadFailure(name=snap.name, error=key_clashes.load_error(found))
            failed.append(failure)
            print_load_failure(console(), failure)
            continue
        earlier.append(snap)
    return failed


def _print_result(snap: LocationSnap | LoadFailure) -> None:
    out = console()
    if isinstance(snap, LoadFailure):
        print_load_failure(out, snap)
        return
    if snap.module_errors:
        print_module_errors(out, snap.name, snap.module_errors)
    mark = "[yellow]![/]" if snap.module_errors else "[green]✓[/]"
    out.print(
        f"{mark} code location [bold]{snap.name}[/] ({snap.module}, Python "
        f"{snap.python_version}): {summary(snap)}"
    )


def _location_json(result: LocationSnap | LoadFailure) -> dict[str, object]:
    if isinstance(result, LoadFailure):
        return {
            "name": result.name,
            "status": "FAILED",
            "python_version": result.python_version or None,
            "error": result.error.to_dict(),
        }
    return {
        "name": result.name,
        "status": "LOADED_WITH_ERRORS" if result.module_errors else "LOADED",
        "module": result.module,
        "python_version": result.python_version,
        "load_seconds": result.load_seconds,
        "counts": counts(result),
        "error": None,
        "module_errors": module_errors_json(result.module_errors),
    }


@check.command("defs")
@json_output.option
@click.option(
    "--load-timeout",
    type=click.FloatRange(min=0),
    default=None,
    envvar="BAKEHOUSE_LOAD_TIMEOUT",
    help="Seconds of its own time a location may take to load (time spent waiting for a CPU "
    "that other processes held does not count; 0: no limit); one still loading then fails "
    "with the Python stack it was stuck in. Default: [tool.bakehouse.code_servers] "
    "local_startup_timeout, else 180.",
)
def check_defs(as_json: bool, load_timeout: float | None) -> None:
    """Load each code location in its own Python; print what it defines, or the error with its
    file:line, as each one finishes. Exits 1 when any location fails to load, or loads with
    errors: whatever defs_errors says, every module of the defs folder is loaded and each one
    that fails is reported with its file:line (docs/projects.md).

    With --json: ``{"ok", "elapsed_seconds", "locations": [...], "warnings": [...]}``, each
    location with its status, counts or error (docs/cli.md).
    """
    workspace = load_workspace(here_only=True)
    warnings = _print_settings_warnings(workspace)
    started = time.perf_counter()
    # Isolated whatever the projects set: a check reports every broken module, not the first,
    # and fails on any of them (a CI check must not pass with a module left out).
    targets = {
        name: replace(target, defs_errors="isolate")
        for name, target in workspace_targets(workspace).items()
    }
    results = fetch_snapshots(
        targets,
        on_result=lambda _name, snap: _print_result(snap),
        limit=None
        if load_timeout is None
        else LoadLimit(load_timeout, "--load-timeout (or BAKEHOUSE_LOAD_TIMEOUT)"),
    )
    elapsed = time.perf_counter() - started
    out = console()
    for clash in _report_key_clashes(workspace, results, warnings):
        results[clash.name] = clash
    failed = sum(1 for snap in results.values() if isinstance(snap, LoadFailure))
    partly = sum(
        1 for snap in results.values() if isinstance(snap, LocationSnap) and snap.module_errors
    )
    if not failed:
        warnings += _print_unplaced_checks(
            [s for s in results.values() if isinstance(s, LocationSnap)]
        )
    if as_json:
        json_output.emit(
            {
                "ok": not failed and not partly,
                "elapsed_seconds": round(elapsed, 3),
                "locations": [_location_json(r) for r in results.values()],
                "warnings": warnings,
            }
        )
    if failed or partly:
        if failed:
            out.print(f"[red]{failed} of {len(results)} code locations failed to load.[/]")
        if partly:
            broken = sum(
                len(s.module_errors) for s in results.values() if isinstance(s, LocationSnap)
            )
            out.print(
                f"[red]{partly} of {len(results)} code locations loaded with errors: "
                f"{plural(broken, 'module')} failed to load.[/]"
            )
        raise SystemExit(1)
    out.print(f"All definitions loaded in {elapsed:.2f} s.")

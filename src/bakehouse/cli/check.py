"""``bh check defs``: load the project's code location and report its definitions or its error."""

from __future__ import annotations

import time

import click

from bakehouse.cli.context import project_target
from bakehouse.cli.output import console, print_load_failure
from bakehouse.location.client import fetch_snapshot
from bakehouse.location.snapshot import LoadFailure


@click.group()
def check() -> None:
    """Check a project."""


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@check.command("defs")
def check_defs() -> None:
    """Load the definitions in the location's own Python; print counts, or the error with its
    file:line. Exits 1 when loading fails."""
    _, target = project_target()
    started = time.perf_counter()
    snap = fetch_snapshot(target)
    elapsed = time.perf_counter() - started
    out = console()
    if isinstance(snap, LoadFailure):
        print_load_failure(out, snap)
        raise SystemExit(1)
    runnable = sum(1 for a in snap.assets if not a.is_external)
    external = len(snap.assets) - runnable
    counts = ", ".join(
        [
            _plural(runnable, "asset") + (f" (+{external} external)" if external else ""),
            _plural(len(snap.jobs), "job"),
            _plural(len(snap.schedules), "schedule"),
            _plural(len(snap.sensors), "sensor"),
            _plural(len(snap.resources), "resource"),
        ]
    )
    out.print(
        f"[green]✓[/] All definitions loaded: code location [bold]{snap.name}[/] "
        f"({snap.module}, Python {snap.python_version}): {counts} in {elapsed:.2f} s"
    )

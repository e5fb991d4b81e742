"""``bh runs logs``: what a run's steps wrote to stdout or stderr, read from the compute logs in
instance storage, once or followed while the run goes on."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import click

from bakehouse.cli.context import open_instance_here
from bakehouse.cli.runs import find_run
from bakehouse.storage.compute_logs import ComputeIOType, LocalComputeLogManager, started_steps
from bakehouse.storage.records import EventType
from bakehouse.storage.remote_compute_logs import compute_log_manager

# How often --follow looks for new output.
FOLLOW_INTERVAL = 0.2


@click.command("logs")
@click.argument("run_id")
@click.option("--step", "step_key", help="Only this step (default: every step, in start order).")
@click.option("--stderr", "use_stderr", is_flag=True, help="Its stderr instead of its stdout.")
@click.option(
    "--follow", "-f", is_flag=True, help="Keep printing new output until the run finishes."
)
def logs(run_id: str, step_key: str | None, use_stderr: bool, follow: bool) -> None:
    """Print what RUN_ID's steps wrote to stdout (or stderr), as captured while they ran.

    Without --step, every step's output in the order the steps started, each under a
    ``== STEP (stdout) ==`` line. RUN_ID may be the short id.
    """
    io_type = ComputeIOType.STDERR if use_stderr else ComputeIOType.STDOUT
    with open_instance_here() as instance:
        run = find_run(instance, run_id)
        manager = compute_log_manager(instance.storage_dir)

        def steps() -> list[str]:
            events = instance.get_events(run.run_id, event_types=[EventType.STEP_START])
            return started_steps(events)

        def finished() -> bool:
            return instance.get_run(run.run_id).status.is_finished

        known = steps()
        # A step that has not started yet may still start while --follow waits.
        waiting = follow and not finished()
        unknown = step_key is not None and step_key not in known
        if unknown and not waiting and not manager.has_logs(run.run_id, str(step_key)):
            listed = ", ".join(known) or "no step has started"
            raise click.ClickException(
                f"run {run.run_id} has no step '{step_key}' (steps: {listed})"
            )
        printer = _Printer(manager, run.run_id, io_type, headers=step_key is None)
        if not follow:
            for key in [step_key] if step_key else known:
                printer.print_available(key)
            return
        printer.follow(lambda: [step_key] if step_key else steps(), finished)


class _Printer:
    """Prints steps' captured output to stdout, each from where it stopped last time."""

    def __init__(
        self,
        manager: LocalComputeLogManager,
        run_id: str,
        io_type: ComputeIOType,
        *,
        headers: bool,
    ) -> None:
        self.manager = manager
        self.run_id = run_id
        self.io_type = io_type
        self.headers = headers
        self.offsets: dict[str, int] = {}
        # Whether what was printed last ended its line (a header starts a line of its own).
        self.at_line_start = True

    def print_available(self, step_key: str) -> bool:
        """Print what `step_key` wrote since last time; True once its capture is complete."""
        first = step_key not in self.offsets
        offset = self.offsets.setdefault(step_key, 0)
        if first and self.headers:
            click.echo(
                ("" if self.at_line_start else "\n") + f"== {step_key} ({self.io_type.value}) =="
            )
            self.at_line_start = True
        while True:
            chunk = self.manager.get_log_data(self.run_id, step_key, self.io_type, offset)
            if chunk.data:
                sys.stdout.write(chunk.data)
                sys.stdout.flush()
                self.at_line_start = chunk.data.endswith("\n")
            if chunk.next_offset == offset:
                break
            offset = chunk.next_offset
        self.offsets[step_key] = offset
        return chunk.complete

    def follow(self, steps: Callable[[], list[str]], finished: Callable[[], bool]) -> None:
        """Print each step's output as it is written, step after step in start order, until
        the run has finished and everything it wrote is printed."""
        done: set[str] = set()
        while True:
            # Read the run's status first: what was written before it finished is read after.
            over = finished()
            for key in steps():
                if key not in done and (self.print_available(key) or over):
                    done.add(key)
                elif key not in done:
                    break  # the earliest running step: its output first, the next ones after
            if over:
                return
            time.sleep(FOLLOW_INTERVAL)

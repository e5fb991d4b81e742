"""Live progress of a run in the terminal, fed one stored event at a time, and its summary."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bakehouse.cli.output import format_duration, metadata_preview, plural, status_text
from bakehouse.errors import ErrorInfo
from bakehouse.storage.records import EventRecord, EventType, RunRecord

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID


def check_line(event: EventRecord) -> str:
    """One ASSET_CHECK_EVALUATION as a line of markup: verdict, check, severity, metadata."""
    from rich.markup import escape

    data = event.data
    name = escape(f"{event.asset_key or ''}:{data.get('check_name', '')}")
    if data.get("passed"):
        head = f"[green]✓[/] check {name} passed"
    else:
        severity = str(data.get("severity", "ERROR"))
        color = "red" if severity == "ERROR" else "yellow"
        blocking = ", blocking" if data.get("blocking") else ""
        head = f"[{color}]✗ check {name} failed ({escape(severity)}{blocking})[/]"
    metadata = data.get("metadata") or {}
    shown = ", ".join(f"{escape(k)}={escape(metadata_preview(v, 40))}" for k, v in metadata.items())
    description = data.get("description")
    tail = f" [dim]{escape(str(description))}[/]" if description else ""
    return head + (f" [dim]· {shown}[/]" if shown else "") + tail


class RunFollower:
    """Prints each step as it starts and ends, with a progress bar on a terminal."""

    def __init__(self, out: Console, *, quiet: bool = False, total: int = 0) -> None:
        self.out = out
        self.quiet = quiet
        self.total = total
        self.done = 0
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def _start_bar(self, total: int) -> None:
        self.total = total
        if self.quiet or not self.out.is_terminal:
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]materializing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.out,
            transient=True,
        )
        self._progress.start()
        self._task = self._progress.add_task("steps", total=total)

    def _advance(self) -> None:
        self.done += 1
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=self.done)

    def _line(self, text: str) -> None:
        if not self.quiet:
            self.out.print(text)

    def handle(self, event: EventRecord) -> None:
        """Show one event."""
        from rich.markup import escape

        kind = event.event_type
        step = escape(event.step_key or "")
        if kind == EventType.STEP_START:
            if self._progress is None and self.total:
                self._start_bar(self.total)
            self._line(f"  [cyan]▶[/] {step}")
        elif kind == EventType.STEP_SUCCESS:
            self._advance()
            ms = event.data.get("duration_ms")
            took = format_duration(ms / 1000) if isinstance(ms, (int, float)) else ""
            self._line(f"  [green]✓[/] {step} [dim]{took}[/]")
        elif kind == EventType.STEP_FAILURE:
            self._advance()
            self._line(f"  [red]✗ {step}[/] {escape(event.message)}")
        elif kind == EventType.STEP_SKIPPED:
            self._advance()
            self._line(f"  [yellow]↷ {step}[/] [dim]{escape(event.message)}[/]")
        elif kind == EventType.ASSET_MATERIALIZATION:
            metadata = event.data.get("metadata", {})
            shown = ", ".join(
                f"{escape(k)}={escape(metadata_preview(v, 40))}"
                for k, v in metadata.items()
                if k != "path"
            )
            self._line(
                f"    [dim]materialized {escape(event.asset_key or '')}"
                f"{' · ' + shown if shown else ''}[/]"
            )
        elif kind == EventType.ASSET_CHECK_EVALUATION:
            self._line(f"    {check_line(event)}")
        elif kind == EventType.ENGINE and event.level == "ERROR":
            self._line(f"  [red]✗[/] {escape(event.message)}")
        elif kind == EventType.LOG and event.level in ("WARNING", "ERROR", "CRITICAL", "INFO"):
            self._line(f"    [dim]{step} {event.level.lower()}:[/] {escape(event.message)}")

    def close(self) -> None:
        """Stop the progress bar."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def print_summary(
        self, run: RunRecord, events: list[EventRecord], log_path: Path | None = None
    ) -> None:
        """The run's outcome: status, duration, counts, and every failure with its traceback."""
        from rich.markup import escape

        from bakehouse.cli.output import print_error

        succeeded = sum(1 for e in events if e.event_type == EventType.STEP_SUCCESS)
        failed = [e for e in events if e.event_type == EventType.STEP_FAILURE]
        skipped = sum(1 for e in events if e.event_type == EventType.STEP_SKIPPED)
        materialized = sum(1 for e in events if e.event_type == EventType.ASSET_MATERIALIZATION)
        checks = [e for e in events if e.event_type == EventType.ASSET_CHECK_EVALUATION]
        checks_failed = [e for e in checks if not e.data.get("passed")]
        for event in failed:
            error = event.data.get("error")
            if isinstance(error, dict):
                print_error(
                    self.out, ErrorInfo.from_dict(error), title=f"Step {event.step_key} failed"
                )
        run_failures = [
            e
            for e in events
            if e.event_type == EventType.RUN_FAILURE
            or (e.event_type == EventType.ENGINE and e.level == "ERROR")
        ]
        if not failed:
            for event in run_failures:
                error = event.data.get("error")
                if isinstance(error, dict):
                    print_error(self.out, ErrorInfo.from_dict(error), title="Run failed")
                else:
                    self.out.print(f"[red]{escape(event.message)}[/]")
        duration = run.duration if run.duration is not None else None
        self.out.print(
            f"Run {status_text(run.status.value)} in {format_duration(duration)}: "
            f"{plural(succeeded, 'step')} succeeded, {len(failed)} failed, {skipped} skipped; "
            f"{plural(materialized, 'asset')} materialized"
            + (
                f"; {plural(len(checks) - len(checks_failed), 'check')} passed, "
                f"{len(checks_failed)} failed."
                if checks
                else "."
            )
        )
        for event in checks_failed:
            self.out.print(f"  {check_line(event)}")
        # Steps' own output is in the compute logs; the worker's log keeps what ran outside them.
        where = f"   Run worker log: {log_path}" if log_path else ""
        self.out.print(
            f"[dim]Details: bh runs show {run.run_id}   Step output: bh runs logs {run.run_id}"
            f"{where}[/]"
        )

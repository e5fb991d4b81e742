"""Live progress of a run in the terminal, fed one stored event at a time, and its summary."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from rich.segment import Segment, Segments
from rich.style import Style
from rich.text import Text

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


_CYAN, _GREEN, _DIM = Style(color="cyan"), Style(color="green"), Style(dim=True)
_NEWLINE = Segment.line()

# The terminal is drawn at most this often: lines and the bar are gathered in between, so a run
# of many short steps costs the launcher one print per interval, not two per step.
RENDER_INTERVAL = 0.1


class RunFollower:
    """Prints each step as it starts and ends, with a progress bar on a terminal.

    `handle` gathers the lines; they are drawn by `render`, which the follower's poll loop calls
    after each batch of events (at most every `RENDER_INTERVAL`), and by `close`.
    """

    def __init__(
        self,
        out: Console,
        *,
        quiet: bool = False,
        total: int = 0,
        render_interval: float = RENDER_INTERVAL,
    ) -> None:
        self.out = out
        self.quiet = quiet
        self.total = total
        self.done = 0
        self.render_interval = render_interval
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        # What is to be drawn, as rich's segments (styled pieces of text) so that drawing it
        # has nothing left to parse, wrap or split.
        self._segments: list[Segment] = []
        self._drawn_at = 0.0
        self._drawn_done = 0

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

    def _line(self, markup: str) -> None:
        """Gather a line of rich markup."""
        if not self.quiet:
            self._segments.extend(Text.from_markup(markup).render(self.out))
            self._segments.append(_NEWLINE)

    def render(self, *, force: bool = False) -> None:
        """Draw the lines gathered since the last draw and move the bar, unless the last draw
        was under `render_interval` ago (`force`: draw anyway)."""
        now = time.monotonic()
        if not force and now - self._drawn_at < self.render_interval:
            return
        self._drawn_at = now
        if self._segments:
            segments, self._segments = self._segments, []
            if self.out.is_terminal or self.out.record:
                # One print of many lines: rich's cost is per call far more than per line.
                self.out.print(Segments(segments))
            else:
                # Piped: no colours and no bar, so rich would only copy the text out.
                self.out.file.write("".join(segment.text for segment in segments))
                self.out.file.flush()
        if self._progress is not None and self._task is not None and self.done != self._drawn_done:
            self._drawn_done = self.done
            self._progress.update(self._task, completed=self.done)

    def handle(self, event: EventRecord) -> None:
        """Show one event."""
        kind = event.event_type
        # The lines every step makes are rich segments built here, not markup: parsing markup
        # was most of the launcher's cost per step.
        if kind == EventType.STEP_START:
            if self._progress is None and self.total:
                self._start_bar(self.total)
            if not self.quiet:
                step_line = f" {event.step_key or ''}"
                self._segments += (Segment("  ▶", _CYAN), Segment(step_line), _NEWLINE)
            return
        if kind == EventType.STEP_SUCCESS:
            self._advance()
            ms = event.data.get("duration_ms")
            took = format_duration(ms / 1000) if isinstance(ms, (int, float)) else ""
            if not self.quiet:
                self._segments += (
                    Segment("  ✓", _GREEN),
                    Segment(f" {event.step_key or ''} "),
                    Segment(took, _DIM),
                    _NEWLINE,
                )
            return
        from rich.markup import escape

        step = escape(event.step_key or "")
        if kind == EventType.STEP_FAILURE:
            self._advance()
            self._line(f"  [red]✗ {step}[/] {escape(event.message)}")
        elif kind == EventType.STEP_SKIPPED:
            self._advance()
            self._line(f"  [yellow]↷ {step}[/] [dim]{escape(event.message)}[/]")
        elif kind == EventType.STEP_UP_FOR_RETRY:
            # Not an end: the step's next attempt follows (STEP_RESTARTED), so no advance.
            self._line(f"  [yellow]↻ {step}[/] [dim]{escape(event.message)}[/]")
        elif kind == EventType.ASSET_MATERIALIZATION:
            metadata = event.data.get("metadata", {})
            shown = ", ".join(
                f"{k}={metadata_preview(v, 40)}" for k, v in metadata.items() if k != "path"
            )
            if not self.quiet:
                text = f"    materialized {event.asset_key or ''}{' · ' + shown if shown else ''}"
                self._segments += (Segment(text, _DIM), _NEWLINE)
        elif kind == EventType.ASSET_CHECK_EVALUATION:
            self._line(f"    {check_line(event)}")
        elif kind == EventType.ENGINE and event.level == "ERROR":
            self._line(f"  [red]✗[/] {escape(event.message)}")
        elif kind == EventType.LOG and event.level in ("WARNING", "ERROR", "CRITICAL", "INFO"):
            self._line(f"    [dim]{step} {event.level.lower()}:[/] {escape(event.message)}")

    def close(self) -> None:
        """Draw what is left and stop the progress bar."""
        self.render(force=True)
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

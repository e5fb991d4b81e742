"""Terminal output shared by the commands: a console, statuses in colour, errors with file:line."""

from __future__ import annotations

import datetime as dt
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from bakehouse.errors import ErrorInfo
    from bakehouse.protocol.snapshot import LoadFailure, ModuleErrorSnap

STATUS_STYLES = {
    "SUCCESS": "green",
    "FAILURE": "red",
    "STARTED": "cyan",
    "STARTING": "cyan",
    "QUEUED": "yellow",
    "CANCELING": "yellow",
    "CANCELED": "magenta",
    "LOADED": "green",
    "LOADED_WITH_ERRORS": "yellow",
    "FAILED": "red",
}


def console(stderr: bool = False) -> Console:
    """A rich console; plain text when output is not a terminal. While the command was given
    ``--json``, always on stderr: stdout carries the JSON document alone."""
    import shutil
    import sys

    from rich.console import Console

    from bakehouse.cli import json_output

    stderr = stderr or json_output.active()
    stream = sys.stderr if stderr else sys.stdout
    # Piped output has no width; 80 columns would fold every table, so use a roomier one.
    width = None if stream.isatty() else max(shutil.get_terminal_size((140, 24)).columns, 140)
    # soft_wrap: long lines (paths, messages) stay whole, for terminals and for grep alike.
    return Console(stderr=stderr, highlight=False, width=width, soft_wrap=True)


def status_text(status: str) -> str:
    """`status` in its colour, as rich markup."""
    style = STATUS_STYLES.get(status, "white")
    return f"[{style}]{status}[/]"


def format_time(ts: float | None) -> str:
    """A local time like ``2026-11-23 19:45:02``."""
    if ts is None:
        return "-"
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def format_duration(seconds: float | None) -> str:
    """``120 ms``, ``3.4 s`` or ``2m 05s``."""
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m {secs:02d}s"


def print_error(out: Console, error: ErrorInfo, *, title: str) -> None:
    """An error: title, the message, then the traceback."""
    from rich.markup import escape

    out.print(f"[red bold]✗ {escape(title)}[/]")
    out.print(f"[red]{escape(error.message)}[/]")
    rendered = error.render()
    if rendered.strip() != error.message.strip():
        out.print(escape(rendered), style="dim")


def print_load_failure(out: Console, failure: LoadFailure) -> None:
    """A location that failed to load; the user's file:line comes first in the message."""
    print_error(out, failure.error, title=f"Code location '{failure.name}' failed to load")


def print_module_errors(
    out: Console, location: str, errors: tuple[ModuleErrorSnap, ...], *, tracebacks: bool = True
) -> None:
    """The modules of a location's defs folder that failed to load (and were left out), each
    with its file:line first, then (with `tracebacks`) its traceback."""
    from rich.markup import escape

    count = len(errors)
    out.print(
        f"[yellow bold]! code location '{escape(location)}' loaded with errors: {count} "
        f"module{'' if count == 1 else 's'} of its defs folder failed to load and "
        f"{'was' if count == 1 else 'were'} left out[/]"
    )
    for error in errors:
        # The whole path, as a failed location's error gives it: terminals make it a link.
        out.print(f"[red]  {escape(error.where)}: {escape(error.error.message)}[/]")
        if tracebacks:
            rendered = error.error.render()
            if rendered.strip() != error.error.message.strip():
                out.print(escape(rendered), style="dim")


def module_errors_json(errors: tuple[ModuleErrorSnap, ...]) -> list[dict[str, object]]:
    """The module errors of a location as the API writes them (`web.models.ModuleErrorOut`)."""
    return [
        {
            "module": e.module,
            "path": e.path,
            "file": e.file,
            "line": e.line,
            "where": e.where,
            "cls_name": e.error.cls_name,
            "message": e.error.message,
            "traceback": e.error.render(),
        }
        for e in errors
    ]


def metadata_preview(entry: dict[str, Any], width: int = 80) -> str:
    """A one-line rendering of a stored metadata value."""
    kind, value = entry.get("type"), entry.get("value")
    if kind == "table" and isinstance(value, dict):
        return f"<table: {len(value.get('records', []))} rows>"
    text = str(value)
    text = text.replace("\n", " ⏎ ")
    return text if len(text) <= width else text[: width - 1] + "…"


def relpath(path: str | None) -> str:
    """`path` relative to the working directory when it is below it."""
    if not path:
        return "-"
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def plural(count: int, word: str) -> str:
    """`count` and `word`, with an "s" unless there is exactly one ("1 asset", "2 assets")."""
    return f"{count} {word}{'' if count == 1 else 's'}"

"""``--json``: the one JSON document a command prints on stdout, and its failures as JSON.

With ``--json``, a command prints exactly one JSON document on stdout (`emit`). Everything a
person reads (progress, warnings, tables, tracebacks) goes to stderr: `output.console` sends it
there while JSON is asked for. A command that cannot do what was asked prints
``{"error": {"type": ..., "message": ..., "exit_code": ...}}`` on stdout instead and exits
non-zero (2 for a usage error, else 1), so a script reads stdout in every case. The documents
are described in docs/cli.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TypeVar

import click

FLAG = "--json"
HELP = (
    'Print one JSON document on stdout (failures too, as {"error": ...}, with a non-zero '
    "exit); progress and messages go to stderr."
)
_META_KEY = "bakehouse.json"
# The same, for threads the command starts (click's current context is per thread); one `bh`
# process runs one command, and each invocation sets it anew.
_asked = False

F = TypeVar("F", bound=Callable[..., Any])


def option(func: F) -> F:
    """The ``--json`` flag, passed to the command as ``as_json``."""
    return click.option(FLAG, "as_json", is_flag=True, help=HELP)(func)


def remember(ctx: click.Context, args: Sequence[str]) -> None:
    """Note in `ctx` (whose meta its subcommands share) whether `args` ask for JSON; called by
    the ``bh`` group before parsing, so that even a parse error of a subcommand's options is
    reported as JSON."""
    global _asked
    given = list(args)
    end = given.index("--") if "--" in given else len(given)
    _asked = ctx.meta[_META_KEY] = FLAG in given[:end]


def active() -> bool:
    """True while the running command was given ``--json`` (in any of its threads)."""
    ctx = click.get_current_context(silent=True)
    return bool(ctx.meta.get(_META_KEY)) if ctx is not None else _asked


def asked_in(ctx: click.Context) -> bool:
    """True if the command line of `ctx` asked for JSON."""
    return bool(ctx.meta.get(_META_KEY))


def emit(payload: Any) -> None:
    """Print `payload` as the command's JSON document on stdout."""
    click.echo(json.dumps(payload, indent=2, default=str))


def error_document(kind: str, message: str, exit_code: int, **details: Any) -> dict[str, Any]:
    """The document of a failure: its kind (an exception's class name), message and exit code."""
    return {"error": {"type": kind, "message": message, "exit_code": exit_code, **details}}


def fail(kind: str, message: str, exit_code: int = 1, **details: Any) -> NoReturn:
    """Print the failure document and exit with `exit_code`."""
    emit(error_document(kind, message, exit_code, **details))
    raise SystemExit(exit_code)


def fail_with(exc: click.ClickException) -> NoReturn:
    """Print `exc` (a usage error, or any other click error) as a failure document and exit."""
    fail(type(exc).__name__, exc.format_message(), exc.exit_code)

"""How ``bh`` reports the failures people cause and can fix (a wrong storage URL, a database
that is down, a bad setting): one or two lines saying what went wrong and what to do, instead
of a traceback. ``bh -v`` shows the traceback as well."""

from __future__ import annotations

import sys
import traceback

from bakehouse.errors import BakehouseError, ProjectError, StorageError

# Set by the ``-v`` option of the ``bh`` group.
verbose = False

_WHAT_TO_DO: tuple[tuple[type[BaseException], str], ...] = (
    (
        StorageError,
        "Check BAKEHOUSE_STORAGE_URL (or BAKEHOUSE_HOME) and that the database server is "
        "running; `bh doctor` checks stored rows.",
    ),
    (ProjectError, "Fix the setting or file it names; `bh check settings` reads them all."),
    (BakehouseError, "Run again with `bh -v` for the traceback."),
)


def one_line(exc: BaseException) -> str:
    """`exc`'s message on one line, without SQLAlchemy's background link, cut if long."""
    from bakehouse.storage.failures import one_line as line

    return line(str(exc)) or type(exc).__name__


def report(exc: BaseException) -> int:
    """Print `exc` for a person (with its traceback under ``-v``); the exit status to use."""
    if verbose:
        traceback.print_exception(exc)
    hint = next(h for kind, h in _WHAT_TO_DO if isinstance(exc, kind))
    print(f"Error: {one_line(exc)}", file=sys.stderr)
    print(hint if verbose else f"{hint} (`bh -v ...` shows the traceback)", file=sys.stderr)
    return 1

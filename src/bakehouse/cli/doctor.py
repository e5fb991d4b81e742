"""``bh doctor``: find stored rows that cannot be read, and move them aside."""

from __future__ import annotations

import click

from bakehouse import serdes
from bakehouse.cli import json_output
from bakehouse.cli.context import open_instance_here
from bakehouse.cli.output import console, plural


@click.command()
@click.option(
    "--move-aside",
    is_flag=True,
    help="Move each corrupt row into the quarantined_rows table (kept whole, nothing is lost).",
)
@json_output.option
def doctor(move_aside: bool, as_json: bool) -> None:
    """List every stored row that cannot be read (runs, events, backfills, ticks, ...).

    Pages and lists skip such rows and mark them; exits 1 while any is left in place.
    """
    with open_instance_here() as instance:
        rows = instance.move_corrupt_rows_aside() if move_aside else instance.find_corrupt_rows()
    if as_json:
        json_output.emit(serdes.to_builtins(rows))
    else:
        from rich.markup import escape

        out = console()
        if not rows:
            out.print("No corrupt rows.")
        for row in rows:
            verb = "moved aside" if move_aside else "corrupt"
            out.print(f"{escape(row.table)} {escape(row.key)}: {verb}: {escape(row.reason)}")
        if rows and move_aside:
            out.print(f"Moved {plural(len(rows), 'row')} to the quarantined_rows table.")
        elif rows:
            out.print(
                f"{plural(len(rows), 'corrupt row')}; `bh doctor --move-aside` keeps them "
                "in the quarantined_rows table and out of the way."
            )
    if rows and not move_aside:
        raise SystemExit(1)

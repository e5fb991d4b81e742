"""``bh list defs``: the definitions of the project's code location, as tables or JSON."""

from __future__ import annotations

import click

from bakehouse import serdes
from bakehouse.cli import json_output
from bakehouse.cli.context import fetch_snapshots, load_workspace, workspace_targets
from bakehouse.cli.output import console, print_load_failure, relpath
from bakehouse.protocol.snapshot import LoadFailure, LocationSnap


@click.group("list")
def list_group() -> None:
    """List things in a project."""


def _as_json(snap: LocationSnap) -> dict[str, object]:
    data: dict[str, object] = serdes.to_builtins(snap)
    data.pop("packages", None)
    data.pop("__type__", None)
    return data


@list_group.command("defs")
@json_output.option
def list_defs(as_json: bool) -> None:
    """List assets (with group, deps and kinds), asset checks, jobs, schedules, sensors and
    resources.

    In a workspace, each code location is listed; JSON is then ``{"locations": [...]}``.
    """
    workspace = load_workspace(here_only=True)
    results = fetch_snapshots(workspace_targets(workspace))
    documents: list[dict[str, object]] = []
    failed = False
    for snap in results.values():
        if isinstance(snap, LoadFailure):
            failed = True
            if as_json:
                documents.append({"name": snap.name, "error": snap.error.to_dict()})
            else:
                print_load_failure(console(), snap)
        elif as_json:
            documents.append(_as_json(snap))
        else:
            _print_tables(snap)
    if as_json:
        payload = documents[0] if workspace.is_single_project else {"locations": documents}
        json_output.emit(payload)
    if failed:
        raise SystemExit(1)


def _print_tables(snap: LocationSnap) -> None:
    from rich.markup import escape
    from rich.table import Table

    out = console()
    out.print(f"Code location [bold]{snap.name}[/] ({snap.module}, Python {snap.python_version})")
    assets = Table(title="Assets", title_justify="left", show_lines=False)
    for column in ("Key", "Group", "Deps", "Kinds", "Description", "Defined at"):
        assets.add_column(column, overflow="fold")
    for node in sorted(snap.assets, key=lambda a: (a.is_external, a.key)):
        key = escape(node.key)
        if node.is_undefined:
            key += " [dim](external: not defined here)[/]"
        elif node.is_external:
            key += " [dim](external)[/]"
        where = f"{relpath(node.source_file)}:{node.source_line}" if node.source_file else "-"
        assets.add_row(
            key,
            escape(node.group) if not node.is_undefined else "-",
            escape(", ".join(node.deps)) or "-",
            escape(", ".join(node.kinds)) or "-",
            escape((node.description or "").strip().splitlines()[0]) if node.description else "-",
            escape(where),
        )
    out.print(assets)
    sections: list[tuple[str, tuple[str, ...], list[tuple[str, ...]]]] = [
        (
            "Asset checks",
            ("Asset", "Check", "Blocking", "Description", "Defined at"),
            [
                (
                    c.asset_key,
                    c.name,
                    "yes" if c.blocking else "no",
                    (c.description or "-").strip().splitlines()[0],
                    f"{relpath(c.source_file)}:{c.source_line}" if c.source_file else "-",
                )
                for c in snap.asset_checks
            ],
        ),
        (
            "Jobs",
            ("Name", "Assets", "Description"),
            [(j.name, ", ".join(j.asset_keys), j.description or "-") for j in snap.jobs],
        ),
        (
            "Schedules",
            ("Name", "Cron", "Job"),
            [(s.name, s.cron_schedule, s.job_name or "-") for s in snap.schedules],
        ),
        (
            "Sensors",
            ("Name", "Job", "Interval"),
            [(s.name, s.job_name or "-", f"{s.minimum_interval_seconds} s") for s in snap.sensors],
        ),
        ("Resources", ("Key", "Type"), [(r.name, r.type) for r in snap.resources]),
    ]
    for title, columns, rows in sections:
        if not rows:
            out.print(f"[dim]{title}: none[/]")
            continue
        table = Table(title=title, title_justify="left")
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*(escape(str(v)) for v in row))
        out.print(table)


def _add_components() -> None:
    # `bh list components` lives with the other component commands.
    from bakehouse.cli.components import list_components

    list_group.add_command(list_components)


_add_components()

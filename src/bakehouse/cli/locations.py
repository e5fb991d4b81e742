"""``bh locations list|reload|history``: code locations of the running deployment (or loaded once
here), their health, reloads and reload history."""

from __future__ import annotations

import time
from typing import Any

import click

from bakehouse.cli import json_output
from bakehouse.cli.completion import location_names
from bakehouse.cli.context import (
    deployment_url,
    fetch_snapshots,
    load_workspace,
    open_instance,
    workspace_targets,
)
from bakehouse.cli.output import console, format_duration, format_time, relpath, status_text
from bakehouse.host.discovery import client_headers


@click.group()
def locations() -> None:
    """Code locations: their status, errors and reloads."""


def _api(method: str, url: str, timeout: float = 600.0) -> Any:
    import httpx

    try:
        response = httpx.request(method, url, headers=client_headers(), timeout=timeout)
    except httpx.HTTPError as exc:
        raise click.ClickException(f"the deployment at {url} did not answer: {exc}") from None
    if response.status_code >= 400:
        detail = response.json().get("detail", response.text)
        raise click.ClickException(f"{response.status_code}: {detail}")
    return response.json()


def _loaded_here() -> list[dict[str, Any]]:
    """What `GET /api/locations` would say, from loading each location once in this process."""
    from bakehouse.protocol.snapshot import LoadFailure

    rows = []
    for name, snap in fetch_snapshots(workspace_targets(load_workspace())).items():
        row: dict[str, Any] = {
            "name": name,
            "updated_at": time.time(),
            "python_version": snap.python_version or None,
            "pid": None,
            "version": None,
            "serving_last_good": False,
            "restarts": 0,
            "health": {
                "load_seconds": getattr(snap, "load_seconds", None),
                "rss_bytes": None,  # its server stopped once it answered
                "peak_rss_bytes": None,
                "restarts": 0,
                "last_exit": None,
                "last_exit_at": None,
                "python_version": snap.python_version or None,
                "packages": _key_packages(snap),
            },
            "last_reload": None,
        }
        if isinstance(snap, LoadFailure):
            error = {
                "cls_name": snap.error.cls_name,
                "message": snap.error.message,
                "traceback": snap.error.render(),
            }
            row.update(status="FAILED", asset_count=0, error=error)
        else:
            from bakehouse.cli.output import module_errors_json

            assets = sum(1 for a in snap.assets if not a.is_external)
            status = "LOADED_WITH_ERRORS" if snap.module_errors else "LOADED"
            row.update(status=status, asset_count=assets, error=None)
            row["module_errors"] = module_errors_json(snap.module_errors)
        row.setdefault("module_errors", [])
        rows.append(row)
    return rows


def _key_packages(snap: Any) -> dict[str, str]:
    from bakehouse.host.supervisor import KEY_PACKAGES

    packages: dict[str, str] = getattr(snap, "packages", {})
    found = {"bakehouse": snap.bakehouse_version} if hasattr(snap, "bakehouse_version") else {}
    found.update({n: packages[n] for n in KEY_PACKAGES if n in packages})
    return found


@locations.command("list")
@click.option("--url", help="The deployment's URL (default: the one running for this workspace).")
@json_output.option
def list_locations(url: str | None, as_json: bool) -> None:
    """Each location's status, last update, Python, process, health (load time, memory,
    restarts) and error; exits 1 when any failed or loaded with errors (a module of its defs
    folder failed to load).

    Without a running deployment, each location is loaded once here and reported. With --json:
    the rows of ``GET /api/locations`` (``health``: load time, memory now and at peak, restarts
    with the last exit's signal, Python and key package versions; ``last_reload``: its diff).
    """
    base = deployment_url(url)
    rows = _api("GET", f"{base}/api/locations") if base else _loaded_here()
    if as_json:
        json_output.emit(rows)
    else:
        _print(rows, base)
    if any(r["status"] in BROKEN for r in rows):
        raise SystemExit(1)


# Statuses that make `bh locations list` and `reload` exit 1: code on disk that does not load.
BROKEN = ("FAILED", "LOADED_WITH_ERRORS")


def _print(rows: list[dict[str, Any]], base: str | None) -> None:
    from rich.markup import escape
    from rich.table import Table

    out = console()
    out.print(f"Deployment {base}" if base else "No deployment running: loaded each location once")
    table = Table()
    columns = ("Location", "Status", "Updated", "Python", "PID", "Assets", "Load", "Memory")
    for column in (*columns, "Restarts", "Last reload", "Error"):
        table.add_column(column, overflow="fold")
    for row in rows:
        status = status_text(row["status"])
        if row.get("serving_last_good"):
            status += " [yellow](serving last good)[/]"
        error = row["error"]["message"] if row.get("error") else ""
        health = row.get("health") or {}
        restarts = str(health.get("restarts", 0))
        if health.get("last_exit"):
            restarts += f" (last: {health['last_exit']})"
        last = row.get("last_reload") or {}
        for module_error in row.get("module_errors") or ():
            # Each module left out, by file:line first: what to open and fix.
            where = f"{relpath(module_error['file'])}:{module_error['line']}"
            error += ("\n" if error else "") + f"{where}: {module_error['message']}"
        table.add_row(
            escape(row["name"]),
            status,
            format_time(row["updated_at"]),
            row.get("python_version") or "-",
            str(row.get("pid") or "-"),
            str(row.get("asset_count", 0)),
            format_duration(health.get("load_seconds")),
            _memory(health.get("rss_bytes"), health.get("peak_rss_bytes")),
            restarts,
            escape(last.get("summary") or ("failed" if last and not last["loaded"] else "-")),
            escape(error),
        )
    out.print(table)


@locations.command("reload")
@click.argument("name", required=False, shell_complete=location_names)
@click.option("--all", "reload_all", is_flag=True, help="Reload every location.")
@click.option("--url", help="The deployment's URL (default: the one running for this workspace).")
@json_output.option
def reload_location(name: str | None, reload_all: bool, url: str | None, as_json: bool) -> None:
    """Reload location NAME (or --all) in the running deployment; exits 1 when one failed.
    With --json: the reloaded locations' rows, as bh locations list --json prints them."""
    if bool(name) == reload_all:
        raise click.UsageError("give a location NAME or --all")
    base = deployment_url(url)
    if base is None:
        raise click.ClickException(
            "no deployment is running for this workspace; start one with bh dev "
            "(bh check defs loads the code without one)"
        )
    path = "/api/reload" if reload_all else f"/api/locations/{name}/reload"
    result = _api("POST", f"{base}{path}")
    rows = result if isinstance(result, list) else [result]
    if as_json:
        json_output.emit(rows)
    else:
        _print(rows, base)
    if any(r["status"] in BROKEN for r in rows):
        raise SystemExit(1)


def _memory(rss: int | None, peak: int | None) -> str:
    if rss is None:
        return "-"
    return f"{megabytes(rss)} (peak {megabytes(peak)})" if peak else megabytes(rss)


def megabytes(value: int | None) -> str:
    """``182 MB`` (or ``-``)."""
    return "-" if value is None else f"{value / 1_000_000:.0f} MB"


@locations.command("history")
@click.argument("name", shell_complete=location_names)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 500))
@click.option("--url", help="The deployment's URL (default: the one running for this workspace).")
@json_output.option
def history(name: str, limit: int, url: str | None, as_json: bool) -> None:
    """The reload history of location NAME, newest first: when, what asked for it (startup, a
    file change, the Reload button, Reload all, the API, a restart) and who, what it added,
    removed and changed (or its error), its load time and its code server's memory.

    From the running deployment, else from the workspace's instance. With --json: the entries of
    ``GET /api/locations/NAME/reloads``.
    """
    base = deployment_url(url)
    if base:
        rows: list[dict[str, Any]] = _api(
            "GET", f"{base}/api/locations/{name}/reloads?limit={limit}"
        )
    else:
        from bakehouse.serdes import to_builtins
        from bakehouse.web.reload_models import ReloadOut

        with open_instance(load_workspace()) as instance:
            rows = [to_builtins(ReloadOut.of(r)) for r in instance.get_reloads(name, limit=limit)]
    if as_json:
        json_output.emit(rows)
        return
    _print_history(name, rows)


def _print_history(name: str, rows: list[dict[str, Any]]) -> None:
    from rich.markup import escape

    out = console()
    if not rows:
        out.print(f"No reloads of {escape(name)} are recorded.")
        return
    for row in rows:
        who = f" by {row['actor']}" if row.get("actor") else ""
        why = f" ({row['reason']})" if row.get("reason") else ""
        took = format_duration(row.get("load_seconds") or row.get("wall_seconds"))
        memory = megabytes(row.get("rss_bytes"))
        head = f"{format_time(row['started_at'])}  {escape(row['trigger_label'])}{why}{who}"
        if row["loaded"]:
            outcome = "[green]loaded[/]: " + escape(row.get("summary") or "first load")
        else:
            error = row.get("error") or {}
            outcome = "[red]failed[/]: " + escape(error.get("message", ""))
        out.print(f"[bold]{head}[/]  {outcome}  [dim]{took}, {memory}[/]")
        for module_error in row.get("module_errors") or ():
            out.print(f"    [yellow]left out[/] {escape(module_error)}")
        diff = row.get("diff") or {}
        for sign, part in (("+", "added"), ("\u2212", "removed"), ("~", "changed")):
            for change in diff.get(part, ()):
                fields = ", ".join(f["field"] for f in change.get("fields", ()))
                detail = f" ({fields})" if fields else ""
                out.print(f"    {sign} {change['kind']} {escape(change['name'])}{detail}")

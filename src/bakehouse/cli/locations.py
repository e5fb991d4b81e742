"""``bh locations list|reload``: code locations of the running deployment, or loaded once here."""

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
    workspace_targets,
)
from bakehouse.cli.output import console, format_time, status_text
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
        }
        if isinstance(snap, LoadFailure):
            error = {
                "cls_name": snap.error.cls_name,
                "message": snap.error.message,
                "traceback": snap.error.render(),
            }
            row.update(status="FAILED", asset_count=0, error=error)
        else:
            assets = sum(1 for a in snap.assets if not a.is_external)
            row.update(status="LOADED", asset_count=assets, error=None)
        rows.append(row)
    return rows


@locations.command("list")
@click.option("--url", help="The deployment's URL (default: the one running for this workspace).")
@json_output.option
def list_locations(url: str | None, as_json: bool) -> None:
    """Each location's status, last update, Python, process and error; exits 1 when any
    failed.

    Without a running deployment, each location is loaded once here and reported. With --json:
    the rows of ``GET /api/locations``.
    """
    base = deployment_url(url)
    rows = _api("GET", f"{base}/api/locations") if base else _loaded_here()
    if as_json:
        json_output.emit(rows)
    else:
        _print(rows, base)
    if any(r["status"] == "FAILED" for r in rows):
        raise SystemExit(1)


def _print(rows: list[dict[str, Any]], base: str | None) -> None:
    from rich.markup import escape
    from rich.table import Table

    out = console()
    out.print(f"Deployment {base}" if base else "No deployment running: loaded each location once")
    table = Table()
    for column in ("Location", "Status", "Updated", "Python", "PID", "Assets", "Error"):
        table.add_column(column, overflow="fold")
    for row in rows:
        status = status_text(row["status"])
        if row.get("serving_last_good"):
            status += " [yellow](serving last good)[/]"
        error = row["error"]["message"] if row.get("error") else ""
        table.add_row(
            escape(row["name"]),
            status,
            format_time(row["updated_at"]),
            row.get("python_version") or "-",
            str(row.get("pid") or "-"),
            str(row.get("asset_count", 0)),
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
    if any(r["status"] == "FAILED" for r in rows):
        raise SystemExit(1)

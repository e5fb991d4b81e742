"""``bh launch`` through a running deployment: queue the run over its API and follow it there."""

from __future__ import annotations

import time
from typing import Any, NoReturn

import click

from bakehouse.cli import json_output
from bakehouse.cli.output import console
from bakehouse.cli.progress import RunFollower
from bakehouse.cli.run_json import outcome_json
from bakehouse.host.discovery import client_headers
from bakehouse.storage.records import EventRecord, EventType, RunRecord, RunStatus

POLL_SECONDS = 0.1


def _event(data: dict[str, Any]) -> EventRecord:
    return EventRecord(
        run_id=data.get("run_id", ""),
        event_type=EventType(data["event_type"]),
        timestamp=data["timestamp"],
        message=data["message"],
        level=data["level"],
        step_key=data.get("step_key"),
        asset_key=data.get("asset_key"),
        data=data.get("data") or {},
        storage_id=data.get("storage_id"),
    )


def _run(data: dict[str, Any]) -> RunRecord:
    return RunRecord(
        run_id=data["run_id"],
        status=RunStatus(data["status"]),
        asset_selection=tuple(data["asset_selection"]),
        selection_query=data.get("selection_query"),
        job_name=data.get("job_name"),
        location_name=data.get("location_name"),
        partition_key=data.get("partition_key"),
        partition_range_start=(data.get("partition_range") or [None, None])[0],
        partition_range_end=(data.get("partition_range") or [None, None])[1],
        tags=data.get("tags") or {},
        created_at=data["created_at"],
        started_at=data.get("started_at"),
        ended_at=data.get("ended_at"),
    )


def launch_through(
    base: str,
    *,
    selection: str | None,
    job_name: str | None,
    tags: dict[str, str],
    run_config: dict[str, Any],
    quiet: bool,
    partition_key: str | None = None,
) -> None:
    """Queue the run at the deployment `base` (of one partition, if `partition_key`), print its
    progress, exit with its outcome."""
    body: dict[str, Any] = {
        "tags": {**tags, "bakehouse/launched_by": "cli"},
        "run_config": run_config,
    }
    if job_name:
        body["job"] = job_name
    else:
        body["selection"] = selection
    if partition_key is not None:
        body["partition_key"] = partition_key
    queue_through(base, "/api/runs", body, quiet=quiet)


def queue_through(base: str, path: str, body: dict[str, Any], *, quiet: bool) -> NoReturn:
    """POST `body` to `path` of the deployment at `base` (an endpoint that queues a run), print
    the run's progress, exit with its outcome; a refusal is a usage error with its reason."""
    import httpx

    out = console()
    with httpx.Client(base_url=base, headers=client_headers(), timeout=60) as http:
        try:
            response = http.post(path, json=body)
        except httpx.HTTPError as exc:
            raise click.ClickException(f"the deployment at {base} did not answer: {exc}") from None
        if response.status_code in (400, 404, 409):
            raise click.UsageError(response.json().get("detail", response.text))
        if response.status_code >= 400:
            raise click.ClickException(f"{response.status_code}: {response.text}")
        run_id = response.json()["run_id"]
        out.print(f"Run [bold]{run_id}[/] queued in the deployment at {base}")
        follower = RunFollower(out, quiet=quiet)
        cursor = 0
        events: list[EventRecord] = []
        try:
            while True:
                detail = http.get(f"/api/runs/{run_id}", params={"after": cursor}).json()
                for item in detail["events"]:
                    event = _event({**item, "run_id": run_id})
                    events.append(event)
                    follower.handle(event)
                    cursor = event.storage_id or cursor
                if detail["status"] in ("SUCCESS", "FAILURE", "CANCELED") and not detail["events"]:
                    break
                follower.render()
                time.sleep(POLL_SECONDS)
        except KeyboardInterrupt:
            http.post(f"/api/runs/{run_id}/cancel")
            out.print("[magenta]Run canceled.[/]")
            raise SystemExit(130) from None
        finally:
            follower.close()
        run = _run(detail)
    follower.print_summary(run, events)
    if json_output.active():
        json_output.emit(outcome_json(run, events))
    raise SystemExit(0 if run.status == RunStatus.SUCCESS else 1)

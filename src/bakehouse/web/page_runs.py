"""The runs list and the run page (header, step timeline, live event log), and their forms."""

from __future__ import annotations

import contextlib
import heapq
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bakehouse.errors import ErrorInfo, RunNotFoundError
from bakehouse.host.deployment import Deployment
from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.storage.compute_logs import started_steps
from bakehouse.storage.records import CorruptRecord, EventRecord, EventType, RunRecord, RunStatus
from bakehouse.storage.run_filter import RunFilter, parse_filter
from bakehouse.web import api_runs
from bakehouse.web.api_graph import views
from bakehouse.web.api_run_events import END_OF_LOG, encode_cursor
from bakehouse.web.deps import deployment
from bakehouse.web.graph_view import GraphViews
from bakehouse.web.models import ReexecuteRequest
from bakehouse.web.templating import problem, render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
# The asset filter suggests at most this many keys (20,000 would be most of the page).
ASSET_SUGGESTIONS = 1000
FILTERS: dict[str, tuple[str, list[RunStatus] | None]] = {
    "": ("All", None),
    "in_progress": (
        "In progress",
        [RunStatus.QUEUED, RunStatus.STARTING, RunStatus.STARTED, RunStatus.CANCELING],
    ),
    "failed": ("Failed", [RunStatus.FAILURE]),
    "succeeded": ("Succeeded", [RunStatus.SUCCESS]),
    "canceled": ("Canceled", [RunStatus.CANCELED]),
}
LEVELS = {"": 0, "DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40}


def launched_by(run: RunRecord) -> str:
    """Who or what launched `run`: the UI, the CLI, a schedule or a sensor (by name)."""
    tags = run.tags
    by = tags.get("bakehouse/launched_by", "")
    if by == "schedule" and "bakehouse/schedule" in tags:
        return f"schedule {tags['bakehouse/schedule']}"
    if by == "sensor" and "bakehouse/sensor" in tags:
        return f"sensor {tags['bakehouse/sensor']}"
    return {"ui": "UI", "cli": "CLI"}.get(by, by or "—")


def locations_of(run: RunRecord) -> str:
    """The code locations a run executes in, comma-separated."""
    names = run.tags.get("bakehouse/locations") or run.location_name or ""
    return ", ".join(n.strip() for n in names.split(",") if n.strip())


@dataclass(frozen=True)
class ListFilters:
    """The Runs page's filters as the URL carries them (``?status=failed&job=bake&...``)."""

    status: str = ""
    job: str = ""
    asset: str = ""
    tag: str = ""
    launched_by: str = ""

    def query(self, **more: object) -> str:
        """The filters (and `more`, e.g. ``before``) as a query string, empty ones left out."""
        pairs = {**vars(self), **more}
        return urlencode({k: v for k, v in pairs.items() if v not in ("", None)})

    def run_filter(self) -> RunFilter:
        """The storage filter; `ValueError` names a bad tag or launcher."""
        return parse_filter(
            job=self.job.strip() or None,
            asset=self.asset.strip() or None,
            tags=[self.tag.strip()] if self.tag.strip() else [],
            launched_by=self.launched_by.strip() or None,
        )


def _launchers(graph: GlobalAssetGraph) -> list[str]:
    """What the launched-by filter suggests: the kinds, then each schedule and sensor."""
    snaps = graph.locations.values()
    return [
        "user",
        "schedule",
        "sensor",
        "backfill",
        *sorted({f"schedule:{s.name}" for snap in snaps for s in snap.schedules}),
        *sorted({f"sensor:{s.name}" for snap in snaps for s in snap.sensors}),
    ]


def _list_context(
    dep: Deployment, graph: GlobalAssetGraph, filters: ListFilters, before: float | None
) -> dict[str, Any]:
    statuses = FILTERS.get(filters.status, FILTERS[""])[1]
    error = None
    runs: list[RunRecord | CorruptRecord] = []
    try:
        run_filter = filters.run_filter()
    except ValueError as exc:
        error = str(exc)
    else:
        runs = dep.instance.get_runs(
            limit=PAGE_SIZE,
            statuses=statuses,
            before_created_at=before,
            run_filter=run_filter,
            include_corrupt=True,
        )
    return {
        "runs": runs,
        "status": filters.status if filters.status in FILTERS else "",
        "filters": FILTERS,
        "chosen": filters,
        "filter_error": error,
        "jobs": sorted({j.name for snap in graph.locations.values() for j in snap.jobs}),
        # Suggestions for the asset filter, not a catalog: any key typed in full still filters.
        "asset_keys": heapq.nsmallest(ASSET_SUGGESTIONS, graph.assets),
        "launchers": _launchers(graph),
        "before": before,
        "older": runs[-1].created_at if len(runs) == PAGE_SIZE else None,
        "corrupt": lambda row: isinstance(row, CorruptRecord),
        "launched_by": launched_by,
        "locations_of": locations_of,
        "any_runs": bool(runs) or bool(dep.instance.get_runs(limit=1)),
    }


@router.get("/runs", response_class=HTMLResponse)
def runs_page(
    request: Request,
    status: str = "",
    job: str = "",
    asset: str = "",
    tag: str = "",
    launched_by: str = "",
    before: float | None = None,
    part: str | None = None,
    dep: Deployment = Depends(deployment),
    graphs: GraphViews = Depends(views),
) -> HTMLResponse:
    """Recent runs, newest first, filtered by status, job, asset, tag and launcher (the
    filters live in the URL); ``?part=rows`` is the table body alone. A bad tag or launcher
    is shown above an empty list, with status 400."""
    filters = ListFilters(status, job, asset, tag, launched_by)
    # The cached graph (per version of the definitions): building it anew costs seconds at
    # 20,000 assets, and the list needs only its job, schedule and sensor names.
    context = _list_context(dep, graphs.graph()[1], filters, before)
    code = 400 if context["filter_error"] else 200
    if part == "rows":
        return render(request, "_run_rows.html", status_code=code, **context)
    return render(request, "runs.html", active="runs", status_code=code, **context)


@dataclass(frozen=True)
class Failure:
    """An error to show prominently: which step (or the run) and the rendered traceback."""

    title: str
    message: str
    traceback: str


def failures(events: list[EventRecord]) -> list[Failure]:
    """The step failures of a run, or the run's own failure when no step failed."""
    found = []
    for event in events:
        error = event.data.get("error")
        if not isinstance(error, dict):
            continue
        info = ErrorInfo.from_dict(error)
        if event.event_type == EventType.STEP_FAILURE:
            found.append(Failure(f"Step {event.step_key} failed", info.message, info.render()))
        elif event.event_type == EventType.RUN_FAILURE or event.level == "ERROR":
            found.append(Failure("The run failed", info.message, info.render()))
    steps = [f for f in found if f.title.startswith("Step ")]
    return steps or found


# The run page shows the log's last events; earlier ones load page by page as asked for.
EVENTS_SHOWN = 200
# Failures shown in full at the top of a failed run's page (a count says how many more).
FAILURES_SHOWN = 20


def _header_context(dep: Deployment, run: RunRecord) -> dict[str, Any]:
    """The header's facts, from counts and the failures the database finds, not from the log
    read whole (a 10,000-step run logs ~50,000 events)."""
    counted = dep.instance.count_events(run.run_id)
    counts = {t.value: counted.get(t, 0) for t in _COUNTED}
    found: list[Failure] = []
    if run.status == RunStatus.FAILURE:
        found = failures(dep.instance.get_error_events(run.run_id, limit=FAILURES_SHOWN + 1))
    parent = run.tags.get("bakehouse/parent_run_id")
    return {
        "run": run,
        "failures": found[:FAILURES_SHOWN],
        "more_failures": max(0, counts["STEP_FAILURE"] - FAILURES_SHOWN),
        "counts": counts,
        "parent": parent,
        "launched_by": launched_by(run),
        "locations": locations_of(run),
    }


_COUNTED = (EventType.STEP_SUCCESS, EventType.STEP_FAILURE, EventType.STEP_SKIPPED)


def run_not_found(request: Request, run_id: str) -> Response:
    """The 404 page for an unknown run id."""
    return problem(
        request,
        status_code=404,
        title="No run",
        name=run_id,
        hint=(
            "Runs is the list of every run of this deployment's instance, newest first; "
            "a run id is the long id in its URL. A deleted run is gone for good."
        ),
        back=("/runs", "Runs"),
        active="runs",
    )


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(
    request: Request,
    run_id: str,
    part: str | None = None,
    step: str = "",
    level: str = "",
    dep: Deployment = Depends(deployment),
) -> Response:
    """A run: header, failures, step timeline, the event log's last page (earlier pages load
    on request) and each step's output (streamed live by its scripts); ``?part=header`` is the
    header alone. `step` and `level` filter the log."""
    try:
        run = dep.instance.get_run(run_id)
    except RunNotFoundError:
        return run_not_found(request, run_id)
    context = _header_context(dep, run)
    if part == "header":
        return render(request, "_run_header.html", **context)
    # The log's last page; its script loads earlier pages (/api/runs/{id}/events) on request
    # and streams what comes next.
    logged = dep.instance.get_events_before(run_id, END_OF_LOG, limit=EVENTS_SHOWN + 1)
    earlier = None
    if len(logged) > EVENTS_SHOWN:
        logged = logged[1:]
        first = logged[0]
        earlier = encode_cursor(
            "before", int(first.key) if isinstance(first, CorruptRecord) else first.storage_id or 0
        )
    events = [e for e in logged if isinstance(e, EventRecord)]
    steps = sorted({e.step_key for e in events if e.step_key} | ({step} if step else set()))
    # The output pane lists steps as they started: the one running is the last.
    log_steps = started_steps(events)
    minimum = LEVELS.get(level, 0)
    shown = sum(
        1 for e in events if (not step or e.step_key == step) and LEVELS.get(e.level, 20) >= minimum
    )
    return render(
        request,
        "run.html",
        active="runs",
        events=events,
        corrupt_events=[e for e in logged if isinstance(e, CorruptRecord)],
        earlier_cursor=earlier,
        shown=shown,
        levels=LEVELS,
        minimum=minimum,
        last_id=max((e.storage_id or 0 for e in events), default=0),
        steps=steps,
        log_steps=log_steps,
        step=step,
        level=level if level in LEVELS else "",
        error_text=lambda data: ErrorInfo.from_dict(data).render(),
        **context,
    )


@router.post("/runs/{run_id}/reexecute")
async def reexecute(
    request: Request,
    run_id: str,
    from_failure: bool = False,
    dep: Deployment = Depends(deployment),
) -> Response:
    """Re-execute a run (or what failed of it) and open the new run (the form behind the
    Re-execute buttons, for browsers without scripts)."""
    try:
        created = await api_runs.reexecute_run(
            run_id, ReexecuteRequest(from_failure=from_failure), dep
        )
    except HTTPException as exc:
        if exc.status_code == 404:
            return run_not_found(request, run_id)
        return problem(
            request,
            status_code=exc.status_code,
            title="The run was not re-executed",
            hint=str(exc.detail),
            back=(f"/runs/{run_id}", "the run"),
            active="runs",
        )
    return RedirectResponse(f"/runs/{created.run_id}", status_code=303)


@router.post("/runs/{run_id}/cancel")
async def cancel(run_id: str, dep: Deployment = Depends(deployment)) -> RedirectResponse:
    """Cancel a run, then show it again (the form behind Cancel)."""
    with contextlib.suppress(HTTPException):  # an unknown run shows its 404 page next
        await api_runs.cancel_run(run_id, dep)
    return RedirectResponse(f"/runs/{run_id}", status_code=303)

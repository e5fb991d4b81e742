"""The Deployment > Code locations page: each location's state, its error, and reloads."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bakehouse.errors import ProjectError
from bakehouse.host.deployment import Deployment
from bakehouse.host.workers import worker_rows
from bakehouse.web.api_locations import actor_of
from bakehouse.web.deps import deployment
from bakehouse.web.models import LocationOut
from bakehouse.web.templating import problem, render

router = APIRouter(include_in_schema=False)


def _locations(dep: Deployment) -> list[LocationOut]:
    return [LocationOut.of(s) for s in dep.locations()]


@router.get("/locations", response_class=HTMLResponse)
def locations_page(
    request: Request, part: str | None = None, dep: Deployment = Depends(deployment)
) -> HTMLResponse:
    """Every location with its status; ``?part=rows`` is the table body alone (live refresh)."""
    if part == "workers":
        return render(request, "_worker_rows.html", workers=worker_rows(dep.instance))
    locations = _locations(dep)
    if part == "rows":
        return render(request, "_location_rows.html", locations=locations)
    # Keys two locations define (only loaded with allow_duplicate_asset_keys): never silent.
    conflicts = dep.supervisor.global_graph().conflicts
    return render(
        request,
        "locations.html",
        active="locations",
        locations=locations,
        conflicts=conflicts,
        workers=worker_rows(dep.instance),
    )


@router.get("/locations/{name}/error", response_class=HTMLResponse)
def location_error(request: Request, name: str, dep: Deployment = Depends(deployment)) -> Response:
    """A failed location's full traceback (the page behind View error, without scripts)."""
    found = next((loc for loc in _locations(dep) if loc.name == name), None)
    if found is None:
        return no_location(request, name)
    return render(request, "location_error.html", active="locations", location=found)


def no_location(request: Request, name: str) -> HTMLResponse:
    """The 404 page of a location name the workspace does not list."""
    return problem(
        request,
        status_code=404,
        title="No code location",
        name=name,
        hint="Code locations lists every location of this workspace.",
        back=("/locations", "Code locations"),
        active="locations",
    )


@router.post("/locations/reload")
async def reload_all(request: Request, dep: Deployment = Depends(deployment)) -> Response:
    """Read the workspace file again and reload every location, then show the page again (the
    form behind Reload all, without scripts)."""
    try:
        await run_in_threadpool(lambda: dep.reload_all(actor=actor_of(request)))
    except ProjectError as exc:
        return _unreadable(request, exc)
    return RedirectResponse("/locations", status_code=303)


@router.post("/locations/{name}/reload")
async def reload_one(
    request: Request, name: str, dep: Deployment = Depends(deployment)
) -> Response:
    """Reload one location, then show the page again (the form behind Reload)."""
    try:
        await run_in_threadpool(lambda: dep.reload(name, trigger="reload", actor=actor_of(request)))
    except KeyError:
        pass  # gone from the workspace since the page was drawn: the page shows what is left
    except ProjectError as exc:
        return _unreadable(request, exc)
    return RedirectResponse("/locations", status_code=303)


def _unreadable(request: Request, exc: ProjectError) -> HTMLResponse:
    return problem(
        request,
        status_code=409,
        title="The workspace file has an error",
        hint=f"{exc}. Nothing was reloaded: fix the file, then press Reload all again.",
        back=("/locations", "Code locations"),
        active="locations",
    )

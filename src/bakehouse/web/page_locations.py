"""The Deployment > Code locations page: each location's state, its error, and reloads."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bakehouse.host.deployment import Deployment
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
    locations = _locations(dep)
    if part == "rows":
        return render(request, "_location_rows.html", locations=locations)
    # Keys two locations define (only loaded with allow_duplicate_asset_keys): never silent.
    conflicts = dep.supervisor.global_graph().conflicts
    return render(
        request, "locations.html", active="locations", locations=locations, conflicts=conflicts
    )


@router.get("/locations/{name}/error", response_class=HTMLResponse)
def location_error(request: Request, name: str, dep: Deployment = Depends(deployment)) -> Response:
    """A failed location's full traceback (the page behind View error, without scripts)."""
    found = next((loc for loc in _locations(dep) if loc.name == name), None)
    if found is None:
        return problem(
            request,
            status_code=404,
            title="No code location",
            name=name,
            hint="Code locations lists every location of this workspace.",
            back=("/locations", "Code locations"),
            active="locations",
        )
    return render(request, "location_error.html", active="locations", location=found)


@router.post("/locations/reload")
async def reload_all(dep: Deployment = Depends(deployment)) -> RedirectResponse:
    """Reload every location, then show the page again (the form behind Reload all)."""
    await run_in_threadpool(dep.reload_all)
    return RedirectResponse("/locations", status_code=303)


@router.post("/locations/{name}/reload")
async def reload_one(name: str, dep: Deployment = Depends(deployment)) -> RedirectResponse:
    """Reload one location, then show the page again (the form behind Reload)."""
    if name in dep.targets:
        await run_in_threadpool(dep.reload, name)
    return RedirectResponse("/locations", status_code=303)

"""``/api/locations`` and ``/api/reload``: code locations, their state and reloads."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from starlette.concurrency import run_in_threadpool

from bakehouse.graph.selection import quoted
from bakehouse.host.deployment import Deployment
from bakehouse.web.deps import deployment
from bakehouse.web.models import LocationOut
from bakehouse.web.responses import NO_LOCATION, guarded

router = APIRouter(prefix="/api", tags=["locations"])


@router.get("/locations", response_model=list[LocationOut], responses=guarded())
def list_locations(dep: Deployment = Depends(deployment)) -> list[LocationOut]:
    """Every code location: status (LOADING, LOADED, FAILED), when it last changed, its Python,
    process, version and error."""
    return [LocationOut.of(s) for s in dep.locations()]


@router.post(
    "/locations/{name}/reload",
    response_model=LocationOut,
    responses=guarded({404: NO_LOCATION}, changes=True),
)
async def reload_location(name: str, dep: Deployment = Depends(deployment)) -> LocationOut:
    """Reload one location; answers when it has loaded or failed. A failed reload keeps the last
    good definitions serving (``serving_last_good``)."""
    if name not in dep.targets:
        raise HTTPException(404, f"no code location named {quoted(name)}")
    state = await run_in_threadpool(dep.reload, name)
    return LocationOut.of(state)


@router.post("/reload", response_model=list[LocationOut], responses=guarded(changes=True))
async def reload_all(dep: Deployment = Depends(deployment)) -> list[LocationOut]:
    """Reload every location in parallel."""
    states = await run_in_threadpool(dep.reload_all)
    return [LocationOut.of(s) for s in states]

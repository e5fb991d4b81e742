"""``/api/locations`` and ``/api/reload``: code locations, their state and reloads.

Reloads read the workspace file again first, so a project added to it (or removed) since the
deployment started is served (or dropped) by them.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from starlette.concurrency import run_in_threadpool

from bakehouse.errors import ProjectError
from bakehouse.graph.selection import quoted
from bakehouse.host.deployment import Deployment
from bakehouse.web.deps import deployment
from bakehouse.web.models import LocationOut, WorkerOut
from bakehouse.web.responses import NO_LOCATION, UNREADABLE_WORKSPACE, guarded

router = APIRouter(prefix="/api", tags=["locations"])


@router.get("/locations", response_model=list[LocationOut], responses=guarded())
def list_locations(dep: Deployment = Depends(deployment)) -> list[LocationOut]:
    """Every code location: status (LOADING, LOADED, FAILED), when it last changed, its Python,
    process, version and error."""
    return [LocationOut.of(s) for s in dep.locations()]


@router.get("/workers", response_model=list[WorkerOut], responses=guarded())
def list_workers(dep: Deployment = Depends(deployment)) -> list[WorkerOut]:
    """The Celery step workers heard from in the last day (``bh worker start``): host,
    location, queues, the steps each executes now and its last heartbeat; live ones first."""
    from bakehouse.host.workers import worker_rows

    return [WorkerOut.of(row) for row in worker_rows(dep.instance)]


@router.post(
    "/locations/{name}/reload",
    response_model=LocationOut,
    responses=guarded({404: NO_LOCATION, 409: UNREADABLE_WORKSPACE}, changes=True),
)
async def reload_location(name: str, dep: Deployment = Depends(deployment)) -> LocationOut:
    """Reload one location; answers when it has loaded or failed. A failed reload keeps the last
    good definitions serving (``serving_last_good``). A name the deployment does not know yet
    reads the workspace file again: a project just added to it loads."""
    try:
        state = await run_in_threadpool(dep.reload, name)
    except KeyError:
        raise HTTPException(404, f"no code location named {quoted(name)}") from None
    except ProjectError as exc:
        raise HTTPException(409, _unreadable(exc)) from None
    return LocationOut.of(state)


@router.post(
    "/reload",
    response_model=list[LocationOut],
    responses=guarded({409: UNREADABLE_WORKSPACE}, changes=True),
)
async def reload_all(dep: Deployment = Depends(deployment)) -> list[LocationOut]:
    """Read the workspace file again (projects added to it load, removed ones go), then reload
    every location in parallel."""
    try:
        states = await run_in_threadpool(dep.reload_all)
    except ProjectError as exc:
        raise HTTPException(409, _unreadable(exc)) from None
    return [LocationOut.of(s) for s in states]


def _unreadable(exc: ProjectError) -> str:
    return f"the workspace file does not read, so nothing was reloaded: {exc}"

"""``/api/locations`` and ``/api/reload``: code locations, their state, reloads and reload history.

Reloads read the workspace file again first, so a project added to it (or removed) since the
deployment started is served (or dropped) by them.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from starlette.concurrency import run_in_threadpool

from bakehouse.errors import ProjectError
from bakehouse.graph.selection import quoted
from bakehouse.host.deployment import Deployment
from bakehouse.web.deps import deployment
from bakehouse.web.models import LocationOut, WorkerOut
from bakehouse.web.reload_models import ReloadOut
from bakehouse.web.responses import NO_LOCATION, UNREADABLE_WORKSPACE, guarded

router = APIRouter(prefix="/api", tags=["locations"])


@router.get("/locations", response_model=list[LocationOut], responses=guarded())
def list_locations(dep: Deployment = Depends(deployment)) -> list[LocationOut]:
    """Every code location: status (LOADING, LOADED, LOADED_WITH_ERRORS, FAILED), when it last
    changed, its Python, process, version and error; with LOADED_WITH_ERRORS, each defs module
    that failed to load (``module_errors``: file:line, message, traceback)."""
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
async def reload_location(
    name: str,
    request: Request,
    via: Literal["api", "button"] = Query(
        "api", description="What asked: the UI's Reload button says 'button' (kept in history)"
    ),
    dep: Deployment = Depends(deployment),
) -> LocationOut:
    """Reload one location; answers when it has loaded or failed, with the reload's diff in
    ``last_reload``. A failed reload keeps the last good definitions serving
    (``serving_last_good``). A name the deployment does not know yet reads the workspace file
    again: a project just added to it loads."""
    trigger = "reload" if via == "button" else "api"
    try:
        state = await run_in_threadpool(
            lambda: dep.reload(name, trigger=trigger, actor=actor_of(request))
        )
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
async def reload_all(request: Request, dep: Deployment = Depends(deployment)) -> list[LocationOut]:
    """Read the workspace file again (projects added to it load, removed ones go), then reload
    every location in parallel."""
    try:
        states = await run_in_threadpool(lambda: dep.reload_all(actor=actor_of(request)))
    except ProjectError as exc:
        raise HTTPException(409, _unreadable(exc)) from None
    return [LocationOut.of(s) for s in states]


@router.get(
    "/locations/{name}/reloads",
    response_model=list[ReloadOut],
    responses=guarded({404: NO_LOCATION}),
)
def list_reloads(
    name: str,
    limit: int = Query(20, ge=1, le=500, description="At most this many, newest first"),
    before: int | None = Query(None, description="Only reloads stored before this id"),
    dep: Deployment = Depends(deployment),
) -> list[ReloadOut]:
    """The location's reload history, newest first: when, what asked (startup, a file change,
    the Reload button, Reload all, the API, a restart) and who, the definitions diff or the
    error, the load time and the code server's memory. Only the newest 500 are kept."""
    found = dep.reloads(name, limit=limit, before_id=before)
    if not found and name not in dep.targets:
        raise HTTPException(404, f"no code location named {quoted(name)}")
    return [ReloadOut.of(r) for r in found]


def actor_of(request: Request) -> str:
    """Who asked: the name of the request's API token, or "local" when the deployment needs
    none."""
    name = getattr(request.state, "token_name", None)
    return name if isinstance(name, str) else "local"


def _unreadable(exc: ProjectError) -> str:
    return f"the workspace file does not read, so nothing was reloaded: {exc}"

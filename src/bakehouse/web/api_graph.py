"""``/api/graph``: the global asset graph laid out for drawing, with each asset's status."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from bakehouse.web.api_assets import select_or_400
from bakehouse.web.graph_view import GraphViews
from bakehouse.web.responses import BAD_SELECTION, guarded

router = APIRouter(prefix="/api", tags=["assets"])


class GraphNodeOut(BaseModel):
    """An asset placed on the canvas (top-left corner, pixels at zoom 1) with its status."""

    key: str
    location: str | None
    group: str
    x: float
    y: float
    kinds: list[str]
    external: bool
    state: str
    materialized_at: float | None
    materialized_run: str | None
    run_id: str | None
    partitioned: bool
    partitions: list[int] | None = Field(
        default=None,
        description="[materialized, total] partitions of a partitioned asset, else null",
    )
    unsynced: list[str] = Field(
        default=[],
        description="Why its latest materialization is out of date: 'upstream' (an upstream "
        "asset materialized since), 'code' (its code version changed), 'never' (never "
        "materialized); empty when it is in sync",
    )
    unsynced_reasons: list[str] = Field(default=[], description="The same, one sentence each")


class GraphBoxOut(BaseModel):
    """A location box (group is null) or a group lane inside one."""

    location: str | None
    group: str | None
    x: float
    y: float
    width: float
    height: float
    color: str | None = Field(
        default=None,
        description="A location box's colour (#rrggbb), derived from the location's name",
    )


class GraphOut(BaseModel):
    """Nodes, edges as [parent index, child index], boxes, and the drawing's size."""

    version: str
    total: int
    node_width: float
    node_height: float
    width: float
    height: float
    nodes: list[GraphNodeOut]
    edges: list[tuple[int, int]]
    lanes: list[GraphBoxOut]
    locations: list[GraphBoxOut]
    locations_state: list[dict[str, Any]]


def views(request: Request) -> GraphViews:
    """The app's cached graph views."""
    value: GraphViews = request.app.state.graph_views
    return value


@router.get("/graph", response_model=GraphOut, responses=guarded({400: BAD_SELECTION}))
async def get_graph(
    selection: str | None = Query(default=None, description="Selection syntax, e.g. group:x+"),
    graphs: GraphViews = Depends(views),
) -> JSONResponse:
    """The asset graph (every asset, or those `selection` picks) laid out left to right by
    dependency and boxed by location and group, with each asset's status: ``never``,
    ``materialized``, ``failed`` (its newest run failed without it), ``running`` or ``queued``."""
    keys = None
    if selection:
        _, graph = await run_in_threadpool(graphs.graph)
        keys = select_or_400(graph, selection)
    data = await run_in_threadpool(graphs.view, keys)
    # Built from plain data already; skip re-validating thousands of nodes.
    return JSONResponse(data)

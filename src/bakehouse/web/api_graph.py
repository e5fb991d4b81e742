"""``/api/graph``: the global asset graph laid out for drawing; ``/api/graph/status``: each
asset's status."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from bakehouse.web.api_assets import select_or_400
from bakehouse.web.graph_view import GraphViews
from bakehouse.web.responses import BAD_SELECTION, guarded

router = APIRouter(prefix="/api", tags=["assets"])


class GraphNodeOut(BaseModel):
    """An asset placed on the canvas (top-left corner, pixels at zoom 1)."""

    key: str
    location: str | None
    group: str
    x: float
    y: float
    kinds: list[str]
    external: bool
    failed_module: str | None = Field(
        default=None, description="file:line of the defs module that failed to load and defined it"
    )
    partitioned: bool


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
    """Nodes, edges as [parent index, child index], boxes, and the drawing's size: what only
    the definitions decide (statuses are at ``/api/graph/status``)."""

    version: str
    etag: str = Field(description="The answer's ETag: send it as If-None-Match to get a 304")
    total: int
    node_width: float
    node_height: float
    width: float
    height: float
    nodes: list[GraphNodeOut]
    edges: list[tuple[int, int]]
    lanes: list[GraphBoxOut]
    locations: list[GraphBoxOut]


class GraphStatusOut(BaseModel):
    """Each asset's status, in the order of the nodes of ``/api/graph`` (same `selection`)."""

    version: str = Field(description="The definitions version; the graph's must be the same")
    cursor: int = Field(description="Live updates (``/api/stream``) after it are newer")
    states: list[str] = Field(description="The states `state` indexes")
    state: list[int]
    materialized_at: list[float | None]
    materialized_run: list[int | None] = Field(description="Index into `runs`, or null")
    run: list[int | None] = Field(description="The newest run with the asset: index into `runs`")
    runs: list[list[str | float | None]] = Field(
        description="[run_id, status, created_at] of each run the other arrays name"
    )
    partitions: dict[str, list[int]] = Field(
        description="By node index: [materialized, total] partitions of a partitioned asset"
    )
    unsynced: dict[str, list[str]] = Field(
        description="By node index, for assets out of date: why, 'upstream' (an upstream asset "
        "materialized since), 'code' (its code version changed) or 'never' (never materialized)"
    )
    unsynced_reasons: dict[str, list[str]] = Field(
        description="By node index: the same, one sentence each"
    )
    locations_state: list[dict[str, Any]]


def views(request: Request) -> GraphViews:
    """The app's cached graph views."""
    value: GraphViews = request.app.state.graph_views
    return value


async def _keys(graphs: GraphViews, selection: str | None) -> list[str] | None:
    if not selection:
        return None
    _, graph = await run_in_threadpool(graphs.graph)
    return select_or_400(graph, selection)


@router.get(
    "/graph",
    response_model=GraphOut,
    responses=guarded(
        {
            304: {"description": "Not modified: the If-None-Match ETag is current"},
            400: BAD_SELECTION,
        }
    ),
)
async def get_graph(
    selection: str | None = Query(default=None, description="Selection syntax, e.g. group:x+"),
    if_none_match: str | None = Header(default=None),
    graphs: GraphViews = Depends(views),
) -> Response:
    """The asset graph (every asset, or those `selection` picks) laid out left to right by
    dependency and boxed by location and group. It changes only when the definitions do: the
    answer carries an ETag, and a request whose If-None-Match names it gets a 304."""
    keys = await _keys(graphs, selection)
    built = await run_in_threadpool(graphs.structure, keys)
    headers = {"ETag": built.etag, "Cache-Control": "no-cache"}
    if if_none_match and built.etag in {tag.strip() for tag in if_none_match.split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(built.body, media_type="application/json", headers=headers)


@router.get("/graph/status", response_model=GraphStatusOut, responses=guarded({400: BAD_SELECTION}))
async def get_graph_status(
    selection: str | None = Query(default=None, description="Selection syntax, e.g. group:x+"),
    graphs: GraphViews = Depends(views),
) -> Response:
    """Each asset's status: ``never``, ``materialized``, ``failed`` (its newest run failed
    without it), ``running`` or ``queued``, with its latest materialization and newest run, as
    arrays in the order of ``/api/graph``'s nodes."""
    keys = await _keys(graphs, selection)
    body = await run_in_threadpool(graphs.status_body, keys)
    return Response(body, media_type="application/json")

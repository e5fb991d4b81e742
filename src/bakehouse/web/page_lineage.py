"""The Global asset lineage page: every location's assets in one graph, drawn on a canvas."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from bakehouse.host.deployment import Deployment
from bakehouse.web.api_assets import select_or_400
from bakehouse.web.api_graph import views
from bakehouse.web.deps import deployment
from bakehouse.web.graph_view import GraphViews
from bakehouse.web.models import LocationOut
from bakehouse.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/lineage", response_class=HTMLResponse)
async def lineage_page(
    request: Request,
    selection: str | None = None,
    part: str | None = None,
    dep: Deployment = Depends(deployment),
    graphs: GraphViews = Depends(views),
) -> HTMLResponse:
    """The page around the graph; its script fetches the graph (``/api/graph``, cached by
    ETag) and the statuses (``/api/graph/status``) of `selection`, if given, and draws them.
    ``?part=notices`` is the banner of failed locations alone (live refresh)."""
    locations = [LocationOut.of(s) for s in dep.locations()]
    if part == "notices":
        return render(request, "_lineage_notices.html", locations=locations)
    error = None
    _, graph = await run_in_threadpool(graphs.graph)
    keys = list(graph.assets)
    if selection:
        try:
            keys = select_or_400(graph, selection)
        except HTTPException as exc:
            error = str(exc.detail)
    shown_locations = {graph.assets[k].location for k in keys if k in graph.assets}
    return render(
        request,
        "lineage.html",
        body_class="full",
        active="lineage",
        shown=len(keys),
        total=len(graph.assets),
        shown_locations=len(shown_locations),
        selection=selection or "",
        selection_error=error,
        locations=locations,
    )

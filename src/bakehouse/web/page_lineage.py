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
    """The laid-out graph (of `selection`, if given) embedded in the page for its script to draw;
    ``?part=notices`` is the banner of failed locations alone (live refresh)."""
    locations = [LocationOut.of(s) for s in dep.locations()]
    if part == "notices":
        return render(request, "_lineage_notices.html", locations=locations)
    error = None
    keys = None
    if selection:
        _, graph = await run_in_threadpool(graphs.graph)
        try:
            keys = select_or_400(graph, selection)
        except HTTPException as exc:
            error = str(exc.detail)
    data = await run_in_threadpool(graphs.view, keys)
    return render(
        request,
        "lineage.html",
        body_class="full",
        active="lineage",
        graph=data,
        selection=selection or "",
        selection_error=error,
        locations=locations,
    )

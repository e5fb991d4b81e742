"""One code location's page: its health (load time, memory now and at peak, restarts, versions),
a chart of memory and load time over the last reloads, and its reload history with each diff or
error."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from bakehouse.host.deployment import Deployment
from bakehouse.storage.reload_records import KINDS
from bakehouse.web.deps import deployment
from bakehouse.web.health_chart import health_chart
from bakehouse.web.models import LocationOut
from bakehouse.web.page_locations import no_location
from bakehouse.web.templating import render

router = APIRouter(include_in_schema=False)

# Reloads the chart draws, and the history lists per page.
CHART_RELOADS = 30
PAGE_RELOADS = 20


@router.get("/locations/{name}", response_class=HTMLResponse)
def location_page(
    request: Request,
    name: str,
    part: str | None = None,
    before: int | None = Query(None, description="Older reloads than this id"),
    dep: Deployment = Depends(deployment),
) -> Response:
    """The location's health, chart and reload history; ``?part=live`` is the part the
    locations stream refreshes."""
    found = next((s for s in dep.locations() if s.name == name), None)
    if found is None:
        return no_location(request, name)
    recent = dep.reloads(name, limit=max(CHART_RELOADS, PAGE_RELOADS))
    history = dep.reloads(name, limit=PAGE_RELOADS, before_id=before) if before else recent
    history = history[:PAGE_RELOADS]
    context: dict[str, Any] = {
        "location": LocationOut.of(found),
        "chart": health_chart(recent[:CHART_RELOADS]),
        "reloads": history,
        "older": history[-1].storage_id if len(history) == PAGE_RELOADS else None,
        "kinds": KINDS,
    }
    if part == "live":
        return render(request, "_location_live.html", **context)
    return render(request, "location.html", active="locations", **context)

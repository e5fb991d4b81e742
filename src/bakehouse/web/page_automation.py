"""The Automation page: every schedule and sensor, its on/off switch and its recent ticks."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from bakehouse.host.deployment import Deployment
from bakehouse.web import api_automation
from bakehouse.web.api_automation_conditions import automated
from bakehouse.web.deps import deployment
from bakehouse.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/automation", response_class=HTMLResponse)
def automation_page(
    request: Request, part: str | None = None, dep: Deployment = Depends(deployment)
) -> HTMLResponse:
    """Schedules and sensors of every serving location; ``?part=rows`` is the table body alone
    (live refresh)."""
    context: dict[str, Any] = {
        "items": api_automation.automation(dep),
        "conditions": automated(dep),
        # Their schedules and sensors are not known while they fail to load: say so.
        "failed": [s.name for s in dep.locations() if s.snapshot is None and s.error is not None],
    }
    if part == "rows":
        return render(request, "_automation_rows.html", **context)
    return render(request, "automation.html", active="automation", **context)


@router.post("/automation/{kind}/{location}/{name}/{action}")
async def toggle(
    kind: str, location: str, name: str, action: str, dep: Deployment = Depends(deployment)
) -> RedirectResponse:
    """Turn a schedule or sensor on (``start``) or off (``stop``), then show the page again
    (the form behind the switch, without scripts)."""
    if action in ("start", "stop"):
        await run_in_threadpool(api_automation.toggle, dep, kind, location, name, action == "start")
    return RedirectResponse("/automation", status_code=303)

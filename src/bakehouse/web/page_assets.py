"""The asset page (definition, lineage neighbours, materializations) and the Materialize form."""

from __future__ import annotations

import difflib
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bakehouse.errors import SelectionError
from bakehouse.host.deployment import Deployment
from bakehouse.web import asset_status
from bakehouse.web.api_assets import get_asset
from bakehouse.web.api_graph import views
from bakehouse.web.deps import deployment
from bakehouse.web.graph_view import GraphViews
from bakehouse.web.templating import asset_url, problem, render

router = APIRouter(include_in_schema=False)


def asset_not_found(request: Request, key: str, known: list[str]) -> Response:
    """The 404 page for an unknown asset key, with the closest keys that exist."""
    close = difflib.get_close_matches(key, known, n=5, cutoff=0.5)
    return problem(
        request,
        status_code=404,
        title="No asset",
        name=key,
        hint=(
            "No loaded code location defines this key. Search the global asset lineage by key, "
            "or check Code locations: an asset of a location that failed to load is missing "
            "until the location loads again."
        ),
        back=("/lineage", "the asset lineage"),
        active="lineage",
        suggestions=[(asset_url(k), k) for k in close],
    )


@router.get("/assets", include_in_schema=False)
def assets_index() -> RedirectResponse:
    """Assets are browsed on the lineage page."""
    return RedirectResponse("/lineage", status_code=307)


@router.get("/assets/{key:path}", response_class=HTMLResponse)
def asset_page(
    request: Request,
    key: str,
    part: str | None = None,
    dep: Deployment = Depends(deployment),
    graphs: GraphViews = Depends(views),
) -> Response:
    """One asset; ``?part=live`` is only its status and materializations (live refresh)."""
    _, graph = graphs.graph()
    try:
        asset = get_asset(key, dep)
    except HTTPException:
        return asset_not_found(request, key, sorted(graph.assets))
    runs = dep.instance.get_runs(limit=asset_status.RECENT_RUNS)
    newest = asset_status.newest_run_by_asset(runs).get(key)
    latest = dep.instance.get_latest_materializations([key]).get(key)
    status = asset_status.status_of(newest, latest)
    context: dict[str, Any] = {
        "asset": asset,
        "status": status,
        "newest_run": newest,
        "location_of": {
            k: graph.assets[k].location
            for k in (*asset.deps, *asset.downstream)
            if k in graph.assets
        },
    }
    if part == "live":
        return render(request, "_asset_live.html", **context)
    return render(request, "asset.html", active="lineage", **context)


@router.post("/materialize")
async def materialize(
    request: Request,
    asset_key: list[str] | None = None,
    selection: str | None = None,
    dep: Deployment = Depends(deployment),
) -> Response:
    """Launch a run of `asset_key` (repeatable) or `selection`, then open it (the form behind
    the Materialize buttons, for browsers without scripts)."""
    try:
        run = await run_in_threadpool(
            lambda: dep.launch(
                selection=None if asset_key else (selection or "*"),
                asset_keys=asset_key or None,
                tags={"bakehouse/launched_by": "ui"},
            )
        )
    except SelectionError as exc:
        return problem(
            request,
            status_code=400,
            title="The run was not launched",
            hint=str(exc),
            back=("/lineage", "the asset lineage"),
            active="lineage",
        )
    return RedirectResponse("/runs/" + quote(run.run_id), status_code=303)

"""The asset catalog page: every asset in one table, searched, filtered and sorted in the page.

The page embeds every row in a compact form (`catalog.page_payload`) and ``static/catalog.js``
filters and sorts it as you type; the filters live in the URL query (the same names as
``/api/assets``), so a filtered view can be linked. ``?part=data`` is the payload alone, which
the page reads again when runs or materializations change.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from bakehouse.host.deployment import Deployment
from bakehouse.web.catalog import SORT_ORDERS, STATUSES
from bakehouse.web.catalog_cache import CatalogCache
from bakehouse.web.deps import deployment
from bakehouse.web.models import LocationOut
from bakehouse.web.templating import render

router = APIRouter(include_in_schema=False)

FILTERS = ("group", "location", "kind", "owner", "status")


def _cache(request: Request) -> CatalogCache:
    """The app's catalog cache (see `pages.mount`)."""
    cache: CatalogCache = request.app.state.catalog_cache
    return cache


@router.get("/assets", response_class=HTMLResponse)
async def catalog_page(
    request: Request,
    part: str | None = None,
    dep: Deployment = Depends(deployment),
    cache: CatalogCache = Depends(_cache),
) -> Response:
    """Every asset with its status, partitions, last materialization and checks; filters from
    the query (``q``, ``group``, ``location``, ``kind``, ``owner``, ``status``, ``sort``)."""
    data, text = await run_in_threadpool(cache.payload)
    if part == "data":
        return Response(text, media_type="application/json")
    params = request.query_params
    chosen = {name: params.get(name, "") for name in FILTERS}
    if chosen["status"] not in STATUSES:
        chosen["status"] = ""
    sort = params.get("sort", "key")
    return render(
        request,
        "catalog.html",
        active="catalog",
        catalog=data,
        catalog_json=Markup(text),
        q=params.get("q", ""),
        chosen=chosen,
        sort=sort if sort in SORT_ORDERS else "key",
        statuses=STATUSES,
        locations=[LocationOut.of(s) for s in dep.locations()],
    )

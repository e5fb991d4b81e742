"""Mounts the HTML pages on a deployment's app: static files, the page routes and HTML 404s.

Pages are server-rendered (Jinja) over the same data as the API; small scripts in ``static/``
enhance them and keep them live from the server-sent event streams.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from bakehouse.web import (
    api_docs,
    api_graph,
    page_assets,
    page_automation,
    page_automation_conditions,
    page_backfills,
    page_catalog,
    page_jobs,
    page_lineage,
    page_location,
    page_locations,
    page_login,
    page_runs,
)
from bakehouse.web.catalog_cache import CatalogCache
from bakehouse.web.templating import STATIC, problem

router = APIRouter(include_in_schema=False)


@router.get("/")
def home() -> RedirectResponse:
    """The lineage of every asset is the front page."""
    return RedirectResponse("/lineage", status_code=307)


async def _not_found(request: Request, exc: Exception) -> Response:
    """HTML for a page path nobody serves; the API and static files keep their JSON errors."""
    assert isinstance(exc, StarletteHTTPException)
    path = request.url.path
    if exc.status_code != 404 or path.startswith(("/api/", "/static/")):
        return await http_exception_handler(request, exc)
    return problem(
        request,
        status_code=404,
        title="No page",
        name=path,
        hint="Start from the global asset lineage, the runs list or the code locations.",
        back=("/lineage", "the asset lineage"),
    )


def mount(app: FastAPI) -> None:
    """Add the pages, their static files and ``/api/graph`` to `app`."""
    app.state.catalog_cache = CatalogCache(app.state.deployment.instance, app.state.graph_views)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (
        api_docs,
        api_graph,
        page_locations,
        page_location,
        page_lineage,
        page_catalog,
        page_assets,
        page_runs,
        page_backfills,
        page_jobs,
        page_automation,
        page_automation_conditions,
        page_login,
    ):
        app.include_router(module.router)
    app.include_router(router)
    app.add_exception_handler(StarletteHTTPException, _not_found)

"""The ASGI app of a deployment: the JSON API under ``/api`` and the pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import bakehouse
from bakehouse.host.deployment import Deployment
from bakehouse.web import (
    api_assets,
    api_automation,
    api_automation_conditions,
    api_backfills,
    api_jobs,
    api_launchpad,
    api_locations,
    api_logs,
    api_partitions,
    api_run_events,
    api_runs,
    body_limit,
    corrupt_rows,
    input_limits,
    pages,
    streams,
)
from bakehouse.web.access import AccessPolicy
from bakehouse.web.auth import AuthMiddleware
from bakehouse.web.compression import ApiCompression
from bakehouse.web.csrf import CSRF_KEY_NAME, CsrfMiddleware
from bakehouse.web.graph_view import GraphViews
from bakehouse.web.hosts import TrustedHostMiddleware
from bakehouse.web.methods import MethodsMiddleware
from bakehouse.web.same_origin import SameOriginMiddleware


def create_app(dep: Deployment, access: AccessPolicy | None = None) -> FastAPI:
    """An app serving `dep` under `access` (default: loopback names only, no tokens). The
    deployment's lifecycle is the caller's; the app only reads it."""
    access = access or AccessPolicy()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.feed.start()
        try:
            yield
        finally:
            await app.state.feed.stop()

    app = FastAPI(
        title="bakehouse",
        version=bakehouse.__version__,
        description="The API of a bakehouse deployment: code locations, assets and runs.",
        lifespan=lifespan,
        # The interactive docs pages load scripts from a CDN; the schema itself is served.
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.deployment = dep
    app.state.access = access
    app.state.feed = streams.ChangeFeed(dep)
    # The graph, its layouts and the asset views' caches, shared by the API and the pages.
    app.state.graph_views = GraphViews(dep)
    app.state.asset_pages = api_assets.AssetPages(app.state.graph_views)
    # Partitions before assets: ``/api/assets/{key:path}`` would take ``KEY/partitions``.
    modules = (
        api_locations,
        api_partitions,
        api_assets,
        api_runs,
        api_run_events,
        api_logs,
        api_launchpad,
        api_jobs,
        api_automation,
        api_automation_conditions,
        api_backfills,
    )
    for module in (*modules, streams):
        app.include_router(module.router)
    pages.mount(app)
    corrupt_rows.install(app)
    input_limits.install(app)
    # Innermost: it compresses what the routes answer, after every guard let the request in.
    app.add_middleware(ApiCompression)
    _guard(app, dep, access)
    # Outermost: the guards (the form-token check reads a form's body) read at most this much.
    app.add_middleware(body_limit.BodyLimit, max_bytes=body_limit.configured_limit())
    return app


def _guard(app: FastAPI, dep: Deployment, access: AccessPolicy) -> None:
    """The checks every request passes before a route sees it, outermost first: the Host
    header, the method, the origin of a change, the token (with `access.auth`) and a form's
    session token (see docs/security.md)."""
    # add_middleware puts each one outside those added before it.
    # The signing key lives in storage: form tokens survive a restart and hold across every
    # webserver process of the deployment.
    app.add_middleware(CsrfMiddleware, key=dep.instance.shared_secret(CSRF_KEY_NAME))
    if access.auth:
        app.add_middleware(AuthMiddleware, instance=dep.instance)
    app.add_middleware(SameOriginMiddleware)
    app.add_middleware(MethodsMiddleware, routes=app.router.routes)
    app.add_middleware(TrustedHostMiddleware, policy=access)

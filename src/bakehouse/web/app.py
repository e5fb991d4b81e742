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
    api_backfills,
    api_locations,
    api_partitions,
    api_runs,
    body_limit,
    corrupt_rows,
    input_limits,
    pages,
    streams,
)


def create_app(dep: Deployment) -> FastAPI:
    """An app serving `dep`. The deployment's lifecycle is the caller's; the app only reads it."""

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
    app.state.feed = streams.ChangeFeed(dep)
    # Partitions before assets: ``/api/assets/{key:path}`` would take ``KEY/partitions``.
    modules = (api_locations, api_partitions, api_assets, api_runs, api_automation, api_backfills)
    for module in (*modules, streams):
        app.include_router(module.router)
    pages.mount(app)
    corrupt_rows.install(app)
    input_limits.install(app)
    app.add_middleware(body_limit.BodyLimit, max_bytes=body_limit.configured_limit())
    return app

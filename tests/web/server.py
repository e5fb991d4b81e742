"""A real uvicorn server for a deployment, on a free loopback port, in a background thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from bakehouse.host.deployment import Deployment
from bakehouse.web.app import create_app
from tests.support.waiting import eventually


@contextmanager
def serve(deployment: Deployment, app: FastAPI | None = None) -> Iterator[str]:
    """Serve `app` (by default `deployment`'s) until the block ends; yields its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(
            app or create_app(deployment),
            host="127.0.0.1",
            port=0,
            log_level="warning",
            lifespan="on",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    eventually(
        lambda: server.started or not thread.is_alive(), timeout=30, message="uvicorn to start"
    )
    assert server.started, "the test server stopped before it started"
    host, port = server.servers[0].sockets[0].getsockname()[:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)

"""How request handlers reach the deployment the app serves."""

from __future__ import annotations

from fastapi import Request

from bakehouse.host.deployment import Deployment


def deployment(request: Request) -> Deployment:
    """The deployment this app was created for."""
    value: Deployment = request.app.state.deployment
    return value

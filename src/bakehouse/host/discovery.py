"""Finding the deployment that serves a workspace's instance, as CLI commands do.

Apart from `deployment.py` so that a command asking "is one running?" does not import the
daemon, the run queue and storage to find out.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

DEPLOYMENT_FILE = "deployment.json"


def find_running_deployment(home: Path) -> str | None:
    """The URL of a deployment running for the instance at `home`, if its process lives."""
    try:
        data = json.loads((home / DEPLOYMENT_FILE).read_text())
        pid = int(data["pid"])
        os.kill(pid, 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    url = data.get("url")
    return url if isinstance(url, str) else None


ENV_TOKEN = "BAKEHOUSE_TOKEN"


def client_headers() -> dict[str, str]:
    """The headers a CLI command sends to a running deployment: the token in
    ``BAKEHOUSE_TOKEN``, if set, for a deployment started with ``--auth`` or off loopback."""
    token = os.environ.get(ENV_TOKEN, "").strip()
    return {"Authorization": f"Bearer {token}"} if token else {}

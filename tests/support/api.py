"""Waiting on a deployment through its HTTP API: locations loaded, runs finished."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.waiting import eventually

FINISHED = ("SUCCESS", "FAILURE", "CANCELED")


def finished_run(http: httpx.Client, run_id: str, timeout: float = 60) -> dict[str, Any]:
    """The run `run_id` as ``/api/runs/ID`` gives it, once it has finished."""

    def if_finished() -> dict[str, Any] | None:
        run: dict[str, Any] = http.get(f"/api/runs/{run_id}").json()
        return run if run["status"] in FINISHED else None

    return eventually(if_finished, timeout=timeout, message=f"run {run_id} did not finish")


def loaded_locations(
    http: httpx.Client, names: set[str] | None = None, timeout: float = 90
) -> list[dict[str, Any]]:
    """``/api/locations`` once the locations `names` (all listed ones when None) are LOADED.

    A deployment answers while its code servers still load, in the background.
    """

    def if_loaded() -> list[dict[str, Any]] | None:
        states: list[dict[str, Any]] = http.get("/api/locations").json()
        loaded = {s["name"] for s in states if s["status"] == "LOADED"}
        wanted = {s["name"] for s in states} if names is None else names
        return states if states and loaded >= wanted else None

    return eventually(if_loaded, timeout=timeout, message=f"locations {names or 'all'} to load")

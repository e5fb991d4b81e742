"""The error answers of the API as the OpenAPI schema lists them, each with an example.

Every error body is ``{"detail": "..."}`` (422s carry FastAPI's list of field errors instead).
The guards in front of the routes add their own answers: 400 for a Host the server does not
answer to (see `web.hosts`), 401 without a valid token when authentication is on, 403 for a
change from another origin or with a read-only token (`web.same_origin`, `web.auth`), and 413
for a body over the limit (`web.body_limit`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ProblemOut(BaseModel):
    """What went wrong, for people."""

    detail: str = Field(description="What is wrong and, where it helps, what to do")


Responses = dict[int | str, dict[str, Any]]

_GUARDS: dict[int, tuple[str, str]] = {
    400: (
        "The Host header names a host this server does not answer to",
        "this server does not answer to the host name 'rebind.example'. To reach it under "
        "that name, start it with --allowed-host NAME (see docs/security.md)",
    ),
    401: (
        "Authentication is on and the request has no valid token",
        "authentication required: send 'Authorization: Bearer TOKEN' "
        "(make one with bh token create NAME)",
    ),
    413: (
        "The request body is larger than the server's limit (BAKEHOUSE_MAX_BODY_BYTES)",
        "the request body is larger than 1048576 bytes (the server's limit, "
        "BAKEHOUSE_MAX_BODY_BYTES)",
    ),
    403: (
        "A change from another origin, or with a read-only token",
        "token 'viewer' is read-only: it can see everything but launch, reload, start or "
        "stop nothing",
    ),
}


def problem(description: str, example: str) -> dict[str, Any]:
    """One documented error answer."""
    return {
        "model": ProblemOut,
        "description": description,
        "content": {"application/json": {"example": {"detail": example}}},
    }


def guarded(own: Responses | None = None, *, changes: bool = False) -> Responses:
    """A route's answers: the guards' (400, 401, and 403 and 413 for a route that `changes`
    something), then its `own`; its own 400 or 403 also names the guard's cause."""
    codes = [400, 401, 403, 413] if changes else [400, 401]
    answers: Responses = {code: problem(*_GUARDS[code]) for code in codes}
    for code, answer in (own or {}).items():
        if code in answers:
            guard = answers[code]["description"]
            answer = {**answer, "description": f"{answer['description']}; or: {guard}"}
        answers[code] = answer
    return answers


BAD_SELECTION = problem(
    "The selection does not parse or matches no asset",
    "selection 'nope' matches no asset",
)
BAD_LAUNCH = problem(
    "Not exactly one of selection, asset_keys and job; they match nothing; or the partition "
    "is not one the selected assets have",
    "selection 'nope' matches no asset",
)
BAD_RUN_FILTER = problem(
    "A tag that is not key=value, or a launcher other than user, schedule, sensor, backfill",
    "unknown launcher 'robot': use one of user, schedule, sensor, backfill, optionally with "
    ":NAME (e.g. schedule:nightly)",
)
BAD_BACKFILL = problem(
    "The selection or the partitions are not valid for a backfill",
    "unknown partition key '2024-02-30'",
)
NO_ASSET = problem("No asset has this key", "no asset with key 'nope'")
NOT_PARTITIONED = problem(
    "No asset has this key, or it is not partitioned", "asset 'nope' is not partitioned"
)
NO_RUN = problem("No run has this id", "no run with id 'nope'")
CORRUPT_RUN = problem(
    "The stored row is unreadable (see bh doctor)",
    "run 'abcd1234': stored row cannot be read (invalid JSON)",
)
NOTHING_TO_REEXECUTE = problem(
    "With from_failure, the run did not fail, or nothing of it is left to run",
    "run 'abcd1234' did not fail (SUCCESS)",
)
NO_LOCATION = problem("No code location has this name", "no code location named 'nope'")
UNREADABLE_WORKSPACE = problem(
    "The workspace file, read again before reloading, has an error (nothing was reloaded)",
    "the workspace file does not read, so nothing was reloaded: pyproject.toml: "
    "tool.bakehouse.workspace.projects[2].path: /lake/projects/gone is not a project folder",
)
NO_INSTIGATOR = problem(
    "The kind is not schedules or sensors, or the location has no such schedule or sensor",
    "no schedule 'nope' in location 'bakery'",
)
NO_BACKFILL = problem("No backfill has this id", "no backfill with id 'nope'")
CORRUPT_BACKFILL = problem(
    "The backfill's stored row is unreadable (see bh doctor)",
    "corrupt row in backfills (abcdefgh): not a backfill record",
)
BACKFILL_FINISHED = problem(
    "The backfill is finished: there is nothing to cancel; or its stored row is unreadable",
    "backfill 'abcdefgh' is COMPLETED: nothing to cancel",
)

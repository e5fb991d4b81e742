"""Bounds on what a request may ask for, and errors that never echo much of it back.

- Run and backfill tags: the OpenAPI schema states the limits of `host.tag_limits` (Dagster's
  sizes, a bounded count); the launch service checks them for every entry point, so the API
  refuses oversized tags with its message (400), as `bh launch` and the daemon do.
- A validation error (422) quotes at most `QUOTE_LIMIT` characters of the input it rejects;
  FastAPI's own answer would echo the whole input, however large.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import WithJsonSchema

from bakehouse.graph.selection import QUOTE_LIMIT
from bakehouse.host.tag_limits import MAX_TAG_SEGMENT, MAX_TAG_VALUE, MAX_TAGS

# The limits as JSON schema, so that the OpenAPI schema says what `tag_problem` accepts (a
# client, or a fuzzer, generating valid tags from it gets them accepted). A key's last "/" splits
# prefix and name, as in `tag_problem`; [\s\S] is any character, newlines included.
_TAGS_SCHEMA = {
    "type": "object",
    "maxProperties": MAX_TAGS,
    "propertyNames": {
        "pattern": rf"^(?:[\s\S]{{0,{MAX_TAG_SEGMENT}}}/)?[^/]{{1,{MAX_TAG_SEGMENT}}}$"
    },
    "additionalProperties": {"type": "string", "maxLength": MAX_TAG_VALUE},
}

Tags = Annotated[dict[str, str], WithJsonSchema(_TAGS_SCHEMA)]


def _clip(value: Any) -> Any:
    if isinstance(value, str):
        return value if len(value) <= QUOTE_LIMIT else value[:QUOTE_LIMIT] + "…"
    if isinstance(value, dict):
        return f"an object of {len(value)} keys" if len(str(value)) > QUOTE_LIMIT else value
    if isinstance(value, list | tuple):
        return f"a list of {len(value)} items" if len(str(value)) > QUOTE_LIMIT else value
    return value


async def validation_error(request: Request, exc: Exception) -> Response:
    """FastAPI's 422 answer, with each error's ``input`` and ``msg`` cut to `QUOTE_LIMIT`."""
    assert isinstance(exc, RequestValidationError)
    errors = [
        {**error, "input": _clip(error.get("input")), "msg": _clip(str(error.get("msg", "")))}
        for error in exc.errors()
    ]
    errors = [{k: v for k, v in e.items() if k != "ctx"} for e in errors]
    return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)


def install(app: FastAPI) -> None:
    """Answer request validation errors in every route of `app` with `validation_error`."""
    app.add_exception_handler(RequestValidationError, validation_error)

"""Bounds on what a request may ask for, and errors that never echo much of it back.

- Run and backfill tags follow Dagster's documented limits for tags: a key is an optional prefix
  and a name separated by ``/``, each at most 63 characters; a value at most 63 characters.
  Dagster sets no count; bakehouse allows at most `MAX_TAGS` per request.
- A validation error (422) quotes at most `QUOTE_LIMIT` characters of the input it rejects;
  FastAPI's own answer would echo the whole input, however large.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import AfterValidator, WithJsonSchema

from bakehouse.graph.selection import QUOTE_LIMIT, quoted

MAX_TAGS = 100
MAX_TAG_SEGMENT = 63
MAX_TAG_VALUE = 63


def check_tags(tags: dict[str, str]) -> dict[str, str]:
    """`tags`, if within the limits; else ValueError naming the first tag at fault."""
    if len(tags) > MAX_TAGS:
        raise ValueError(f"{len(tags)} tags given; at most {MAX_TAGS} are allowed")
    for key, value in tags.items():
        prefix, _, name = key.rpartition("/")
        if not name or any(len(part) > MAX_TAG_SEGMENT for part in (prefix, name)):
            raise ValueError(
                f"tag key {quoted(key)}: a key is an optional prefix and a name separated by "
                f"'/', each 1 to {MAX_TAG_SEGMENT} characters"
            )
        if len(value) > MAX_TAG_VALUE:
            raise ValueError(
                f"tag {quoted(key)}: a value is at most {MAX_TAG_VALUE} characters, "
                f"got {len(value)}"
            )
    return tags


# The same limits as JSON schema, so that the OpenAPI schema says what `check_tags` accepts (a
# client, or a fuzzer, generating valid tags from it gets them accepted). A key's last "/" splits
# prefix and name, as in `check_tags`; [\s\S] is any character, newlines included.
_TAGS_SCHEMA = {
    "type": "object",
    "maxProperties": MAX_TAGS,
    "propertyNames": {
        "pattern": rf"^(?:[\s\S]{{0,{MAX_TAG_SEGMENT}}}/)?[^/]{{1,{MAX_TAG_SEGMENT}}}$"
    },
    "additionalProperties": {"type": "string", "maxLength": MAX_TAG_VALUE},
}

Tags = Annotated[dict[str, str], AfterValidator(check_tags), WithJsonSchema(_TAGS_SCHEMA)]


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

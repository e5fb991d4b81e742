"""``/api/docs``: the API reference, rendered on the server from the OpenAPI schema.

FastAPI's own docs pages load Swagger UI or ReDoc from a CDN, which offline machines cannot
reach, so this page is plain HTML from our templates: every operation with its parameters, its
request body (with the schema's example) and each answer it can give.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from bakehouse.web.templating import render

router = APIRouter(include_in_schema=False)

_METHOD_ORDER = ("get", "post", "put", "patch", "delete")


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def type_name(schema: dict[str, Any]) -> str:
    """A short name for a JSON schema: ``RunOut``, ``array of string``, ``string | null``."""
    if "$ref" in schema:
        return _ref_name(schema["$ref"])
    if "anyOf" in schema:
        return " | ".join(type_name(s) for s in schema["anyOf"])
    if schema.get("type") == "array":
        return f"array of {type_name(schema.get('items', {}))}"
    if "enum" in schema:
        return " | ".join(json.dumps(v) for v in schema["enum"])
    return str(schema.get("type", "any"))


def _body(operation: dict[str, Any], components: dict[str, Any]) -> dict[str, Any] | None:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return None
    schema = content.get("schema", {})
    examples = components.get(_ref_name(schema.get("$ref", "")), {}).get("examples", [])
    return {
        "type": type_name(schema),
        "example": json.dumps(examples[0], indent=2) if examples else None,
    }


def _answers(operation: dict[str, Any]) -> list[dict[str, Any]]:
    answers = []
    for code, answer in sorted(operation.get("responses", {}).items()):
        content = answer.get("content", {})
        media: dict[str, Any] = content.get("application/json") or next(iter(content.values()), {})
        example = media.get("example")
        answers.append(
            {
                "code": code,
                "description": answer.get("description", ""),
                "type": type_name(media["schema"]) if "schema" in media else "",
                "example": json.dumps(example) if example is not None else None,
            }
        )
    return answers


def operations(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """Every operation of `schema` in path order, as the template shows it."""
    components = schema.get("components", {}).get("schemas", {})
    found = []
    for path, item in schema.get("paths", {}).items():
        for method in _METHOD_ORDER:
            operation = item.get(method)
            if operation is None:
                continue
            found.append(
                {
                    "id": operation.get("operationId", f"{method}-{path}"),
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "parameters": [
                        {
                            "name": p["name"],
                            "where": p["in"],
                            "required": p.get("required", False),
                            "type": type_name(p.get("schema", {})),
                            "description": p.get("description", ""),
                        }
                        for p in operation.get("parameters", [])
                    ],
                    "body": _body(operation, components),
                    "answers": _answers(operation),
                }
            )
    return found


@router.get("/api/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    """The API reference page."""
    schema = request.app.openapi()
    return render(
        request,
        "api_docs.html",
        active="api",
        info=schema.get("info", {}),
        operations=operations(schema),
    )

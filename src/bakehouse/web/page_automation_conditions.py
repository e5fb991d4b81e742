"""The evaluation view: one asset's automation condition, its recent evaluations, and for the
chosen one the condition tree with what was true (as Dagster's evaluation view shows it)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from bakehouse.host.automation_view import condition_title
from bakehouse.host.deployment import Deployment
from bakehouse.web.api_automation_conditions import automated, evaluations_of
from bakehouse.web.deps import deployment
from bakehouse.web.templating import render

router = APIRouter(include_in_schema=False)

EVALUATIONS_SHOWN = 30


@router.get("/automation/conditions/{key:path}", response_class=HTMLResponse)
def evaluation_view(
    request: Request,
    key: str,
    evaluation: int | None = None,
    part: str | None = None,
    dep: Deployment = Depends(deployment),
) -> Response:
    """``?evaluation=ID`` picks the evaluation shown (default: the newest, followed live);
    ``?part=live`` is the evaluations and the tree alone (live refresh)."""
    try:
        evaluations = evaluations_of(dep, key, limit=EVALUATIONS_SHOWN)
    except HTTPException as exc:
        return render(
            request,
            "problem.html",
            status_code=404,
            code=404,
            title="No automation condition on",
            name=key,
            hint=str(exc.detail),
            back=("/automation", "Automation"),
        )
    chosen = next((e for e in evaluations if e.storage_id == evaluation), None)
    if chosen is None and evaluation is not None:
        chosen = dep.instance.get_automation_evaluation(evaluation)
        if chosen is not None and chosen.asset_key != key:
            chosen = None
    chosen = chosen or (evaluations[0] if evaluations else None)
    placed = dep.graph().assets.get(key)
    condition = placed.node.automation_condition if placed is not None else None
    info = next(iter(automated(dep, only=key)), None)
    context: dict[str, Any] = {
        "key": key,
        "condition": condition,
        "condition_title": condition_title(condition) if condition else None,
        "info": info,
        "evaluations": evaluations,
        "chosen": chosen,
        "pinned": evaluation,
    }
    if part == "live":
        return render(request, "_automation_condition_live.html", **context)
    return render(request, "automation_condition.html", active="automation", **context)

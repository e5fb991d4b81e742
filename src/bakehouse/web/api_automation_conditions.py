"""``/api/automation/conditions`` and ``/api/automation/evaluations``: the assets the daemon
automates, and each evaluation of their conditions with the tree of what was true."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query

from bakehouse.graph.selection import quoted
from bakehouse.host.automation_view import AutomatedAsset, automated_assets
from bakehouse.host.deployment import Deployment
from bakehouse.storage.automation_records import AutomationEvaluation
from bakehouse.web.deps import deployment
from bakehouse.web.responses import guarded, problem

router = APIRouter(prefix="/api/automation", tags=["automation"])

NO_AUTOMATED_ASSET = problem(
    "No asset has this key, or it has no automation condition",
    "asset 'nope' has no automation condition",
)
NO_EVALUATION = problem(
    "No evaluation is stored under this id (only the newest 200 per asset are kept)",
    "no automation evaluation 12345",
)


def automated(dep: Deployment, only: str | None = None) -> list[AutomatedAsset]:
    """Every automated asset of the serving locations (or only asset `only`), through the
    deployment's cached merged graph."""
    graph = dep.graph()
    return automated_assets(list(graph.locations.values()), dep.instance, only=only, graph=graph)


@router.get("/conditions", response_model=list[AutomatedAsset], responses=guarded())
def list_conditions(dep: Deployment = Depends(deployment)) -> list[AutomatedAsset]:
    """Assets with an automation condition: the sensor that evaluates each (and whether it
    runs), its latest evaluation and the latest one that requested a run."""
    return automated(dep)


def evaluations_of(
    dep: Deployment, key: str, *, limit: int, before: int | None = None
) -> list[AutomationEvaluation]:
    """The asset's evaluations, newest first; 404 when it has no condition and none stored."""
    found = dep.instance.get_automation_evaluations(key, limit=limit, before_id=before)
    placed = dep.graph().assets.get(key)
    if not found and (placed is None or placed.node.automation_condition is None):
        raise HTTPException(404, f"asset {quoted(key)} has no automation condition")
    return found


@router.get(
    "/conditions/{key:path}/evaluations",
    response_model=list[AutomationEvaluation],
    responses=guarded({404: NO_AUTOMATED_ASSET}),
)
def list_evaluations(
    key: str,
    limit: int = Query(20, ge=1, le=200, description="At most this many, newest first"),
    before: int | None = Query(None, description="Only evaluations stored before this id"),
    dep: Deployment = Depends(deployment),
) -> list[AutomationEvaluation]:
    """The asset's evaluations, newest first, each with its tree: every sub-condition and the
    partitions it was true for ("" for an unpartitioned asset)."""
    return evaluations_of(dep, key, limit=limit, before=before)


@router.get(
    "/evaluations/{evaluation_id}",
    response_model=AutomationEvaluation,
    responses=guarded({404: NO_EVALUATION}),
)
def get_evaluation(
    evaluation_id: int, dep: Deployment = Depends(deployment)
) -> AutomationEvaluation:
    """One stored evaluation, by the `storage_id` the lists give."""
    found = dep.instance.get_automation_evaluation(evaluation_id)
    if found is None:
        raise HTTPException(404, f"no automation evaluation {evaluation_id}")
    return found

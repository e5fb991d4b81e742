"""``/api/assets/{key}/partitions``: an asset's partitions now, each with its status."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from bakehouse.host.deployment import Deployment
from bakehouse.host.partition_keys import describe, partition_keys
from bakehouse.web.deps import deployment
from bakehouse.web.partition_status import PartitionView, view
from bakehouse.web.responses import NOT_PARTITIONED, guarded

router = APIRouter(prefix="/api", tags=["assets"])


class PartitionOut(BaseModel):
    """One partition and its state."""

    key: str
    status: str = Field(description="materialized, failed, in_progress or missing")


class PartitionRangeOut(BaseModel):
    """Consecutive partitions in one state (what the status bar draws as one segment)."""

    status: str
    start: str
    end: str
    count: int


class PartitionsOut(BaseModel):
    """An asset's partitions, in key order, with their states and counts."""

    asset_key: str
    location: str
    description: str = Field(description="The partitions definition, in words")
    total: int
    counts: dict[str, int] = Field(
        description="How many partitions are materialized, failed, in_progress and missing"
    )
    partitions: list[PartitionOut]
    ranges: list[PartitionRangeOut]


class NotPartitioned(LookupError):
    """Raised for an asset no location defines, or one that is not partitioned."""


@dataclass(frozen=True)
class AssetPartitions:
    """A partitioned asset's location, its partitions definition in words, and its partitions
    with their states."""

    location: str
    description: str
    view: PartitionView


def load(dep: Deployment, asset_key: str) -> AssetPartitions:
    """The asset's partition keys now (computed from its snapshot) and their states (one
    storage read); raises `NotPartitioned`."""
    placed = dep.graph().assets.get(asset_key)
    if placed is None or placed.location is None:
        raise NotPartitioned(f"no asset '{asset_key}' is defined in a loaded code location")
    snap = placed.node.partitions
    if snap is None:
        raise NotPartitioned(f"asset '{asset_key}' is not partitioned")
    keys = partition_keys(snap, dynamic_keys=dep.instance.get_dynamic_partitions)
    statuses = dep.instance.get_partition_status(asset_key)
    return AssetPartitions(placed.location, describe(snap), view(keys, statuses))


@router.get(
    "/assets/{key:path}/partitions",
    response_model=PartitionsOut,
    responses=guarded({404: NOT_PARTITIONED}),
)
async def get_partitions(key: str, dep: Deployment = Depends(deployment)) -> PartitionsOut:
    """Every partition the asset has now (oldest first) with its status; 404 for an unknown
    or unpartitioned asset."""
    try:
        found = await run_in_threadpool(load, dep, key)
    except NotPartitioned as exc:
        raise HTTPException(404, str(exc)) from None
    states = found.view
    return PartitionsOut(
        asset_key=key,
        location=found.location,
        description=found.description,
        total=states.total,
        counts=states.counts,
        partitions=[
            PartitionOut(key=k, status=s) for k, s in zip(states.keys, states.states, strict=True)
        ],
        ranges=[
            PartitionRangeOut(status=s.state, start=s.first_key, end=s.last_key, count=s.count)
            for s in states.segments
        ],
    )

"""``/api/automation``: schedules and sensors with their state, next tick and recent ticks."""

from __future__ import annotations

import time
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field

from bakehouse.daemon.scheduler import effective_status, next_tick, origin_of, set_running
from bakehouse.errors import CorruptRecordError, ErrorInfo
from bakehouse.graph.selection import quoted
from bakehouse.host.deployment import Deployment
from bakehouse.protocol.snapshot import ScheduleSnap, SensorSnap
from bakehouse.storage.records import (
    CorruptRecord,
    InstigatorState,
    InstigatorStatus,
    InstigatorType,
    TickRecord,
)
from bakehouse.web.deps import deployment
from bakehouse.web.models import ErrorOut
from bakehouse.web.responses import NO_INSTIGATOR, guarded

router = APIRouter(prefix="/api", tags=["automation"])


class TickOut(BaseModel):
    """One evaluation of a schedule or sensor."""

    tick_at: float
    status: str
    run_ids: list[str]
    run_keys: list[str]
    skip_reason: str | None
    error: ErrorOut | None
    cursor: str | None

    @classmethod
    def of(cls, tick: TickRecord) -> TickOut:
        """The API view of a tick."""
        return cls(
            tick_at=tick.tick_at,
            status=tick.status.value,
            run_ids=list(tick.run_ids),
            run_keys=list(tick.run_keys),
            skip_reason=tick.skip_reason,
            error=ErrorOut.of(ErrorInfo.from_dict(tick.error)) if tick.error else None,
            cursor=tick.cursor,
        )


class CorruptTickOut(BaseModel):
    """A tick whose stored row cannot be read, in its place among the ticks (see ``bh doctor``)."""

    tick_id: int
    tick_at: float | None
    corrupt: Literal[True] = True
    reason: str

    @classmethod
    def of(cls, row: CorruptRecord) -> CorruptTickOut:
        """The API view of a corrupt tick row."""
        return cls(tick_id=int(row.key), tick_at=row.created_at, reason=row.reason)


class InstigatorOut(BaseModel):
    """A schedule or a sensor, its state and its recent ticks."""

    type: str
    location: str
    name: str
    status: str
    default_status: str
    job: str | None
    description: str | None
    cron_schedule: str | None = None
    execution_timezone: str | None = None
    next_tick: float | None = None
    sensor_kind: str | None = None
    minimum_interval_seconds: int | None = None
    cursor: str | None = None
    state_corrupt: str | None = Field(
        default=None,
        description="Why its stored on/off state cannot be read (it then shows its default "
        "status; `bh doctor` lists the row); null when it can",
    )
    ticks: list[TickOut | CorruptTickOut]


TICKS_SHOWN = 10


def _items(dep: Deployment) -> list[tuple[str, ScheduleSnap | SensorSnap]]:
    found: list[tuple[str, ScheduleSnap | SensorSnap]] = []
    for state in dep.locations():
        if state.snapshot is not None:
            found.extend((state.name, s) for s in state.snapshot.schedules)
            found.extend((state.name, s) for s in state.snapshot.sensors)
    return found


def instigator_out(
    dep: Deployment, location: str, item: ScheduleSnap | SensorSnap, ticks: int = TICKS_SHOWN
) -> InstigatorOut:
    """The API view of one schedule or sensor, with its `ticks` newest ticks."""
    origin = origin_of(location, item.name)
    state: InstigatorState | None = None
    state_corrupt = None
    try:
        state = dep.instance.get_instigator_state(origin)
    except CorruptRecordError as exc:
        # One unreadable state row spoils only its own item, not the whole list.
        state_corrupt = exc.reason
    status = effective_status(state, item.default_status)
    recent = [
        TickOut.of(t) if isinstance(t, TickRecord) else CorruptTickOut.of(t)
        for t in dep.instance.get_ticks(origin, limit=ticks, include_corrupt=True)
    ]
    common: dict[str, Any] = {
        "location": location,
        "name": item.name,
        "status": status.value,
        "default_status": item.default_status,
        "job": item.job_name,
        "description": item.description,
        "ticks": recent,
        "state_corrupt": state_corrupt,
    }
    if isinstance(item, ScheduleSnap):
        upcoming = (
            next_tick(item.cron_schedule, item.execution_timezone, time.time())
            if status == InstigatorStatus.RUNNING
            else None
        )
        return InstigatorOut(
            type="schedule",
            cron_schedule=item.cron_schedule,
            execution_timezone=item.execution_timezone or "UTC",
            next_tick=upcoming,
            **common,
        )
    return InstigatorOut(
        type="sensor",
        sensor_kind=item.kind,
        minimum_interval_seconds=item.minimum_interval_seconds,
        cursor=state.cursor if state else None,
        **common,
    )


def automation(dep: Deployment, ticks: int = TICKS_SHOWN) -> list[InstigatorOut]:
    """Every schedule and sensor of the serving locations, by location then name."""
    found = [instigator_out(dep, location, item, ticks) for location, item in _items(dep)]
    return sorted(found, key=lambda i: (i.location, i.type, i.name))


@router.get("/automation", response_model=list[InstigatorOut], responses=guarded())
def list_automation(
    ticks: int = Query(TICKS_SHOWN, ge=0, le=200, description="Newest ticks per item"),
    dep: Deployment = Depends(deployment),
) -> list[InstigatorOut]:
    """Every schedule and sensor of the serving locations, with its state and last ticks."""
    return automation(dep, ticks)


def toggle(dep: Deployment, kind: str, location: str, name: str, running: bool) -> InstigatorOut:
    """Turn schedule or sensor `name` of `location` on or off; 404 if there is none."""
    if kind not in ("schedules", "sensors"):
        raise HTTPException(404, f"unknown kind {quoted(kind)}: use schedules or sensors")
    wanted = ScheduleSnap if kind == "schedules" else SensorSnap
    match = next(
        (item for loc, item in _items(dep)
         if loc == location and item.name == name and isinstance(item, wanted)),
        None,
    )  # fmt: skip
    if match is None:
        raise HTTPException(404, f"no {kind[:-1]} {quoted(name)} in location {quoted(location)}")
    set_running(
        dep.instance, location=location, name=name, running=running, now=time.time(),
        type=InstigatorType.SCHEDULE if kind == "schedules" else InstigatorType.SENSOR,
    )  # fmt: skip
    return instigator_out(dep, location, match)


@router.post(
    "/{kind}/{location}/{name}/start",
    response_model=InstigatorOut,
    responses=guarded({404: NO_INSTIGATOR}, changes=True),
)
def start(
    kind: str, location: str, name: str, dep: Deployment = Depends(deployment)
) -> InstigatorOut:
    """Turn a schedule or sensor on (``kind`` is ``schedules`` or ``sensors``)."""
    return toggle(dep, kind, location, name, True)


@router.post(
    "/{kind}/{location}/{name}/stop",
    response_model=InstigatorOut,
    responses=guarded({404: NO_INSTIGATOR}, changes=True),
)
def stop(
    kind: str, location: str, name: str, dep: Deployment = Depends(deployment)
) -> InstigatorOut:
    """Turn a schedule or sensor off."""
    return toggle(dep, kind, location, name, False)

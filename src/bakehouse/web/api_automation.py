"""``/api/automation``: schedules and sensors with their state, next tick and recent ticks."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel

from bakehouse.daemon.scheduler import effective_status, next_tick, origin_of
from bakehouse.host.deployment import Deployment
from bakehouse.location.snapshot import ScheduleSnap, SensorSnap
from bakehouse.storage.records import (
    InstigatorState,
    InstigatorStatus,
    InstigatorType,
    TickRecord,
)
from bakehouse.web.deps import deployment

router = APIRouter(prefix="/api", tags=["automation"])


class TickOut(BaseModel):
    """One evaluation of a schedule or sensor."""

    tick_at: float
    status: str
    run_ids: list[str]
    run_keys: list[str]
    skip_reason: str | None
    error: dict[str, Any] | None
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
            error=tick.error,
            cursor=tick.cursor,
        )


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
    ticks: list[TickOut]


def _items(dep: Deployment) -> list[tuple[str, ScheduleSnap | SensorSnap]]:
    found: list[tuple[str, ScheduleSnap | SensorSnap]] = []
    for state in dep.locations():
        if state.snapshot is not None:
            found.extend((state.name, s) for s in state.snapshot.schedules)
            found.extend((state.name, s) for s in state.snapshot.sensors)
    return found


def _out(dep: Deployment, location: str, item: ScheduleSnap | SensorSnap) -> InstigatorOut:
    origin = origin_of(location, item.name)
    state = dep.instance.get_instigator_state(origin)
    status = effective_status(state, item.default_status)
    ticks = [TickOut.of(t) for t in dep.instance.get_ticks(origin, limit=10)]
    common: dict[str, Any] = {
        "location": location,
        "name": item.name,
        "status": status.value,
        "default_status": item.default_status,
        "job": item.job_name,
        "description": item.description,
        "ticks": ticks,
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


@router.get("/automation", response_model=list[InstigatorOut])
def list_automation(dep: Deployment = Depends(deployment)) -> list[InstigatorOut]:
    """Every schedule and sensor of the serving locations, with its state and last ticks."""
    return [_out(dep, location, item) for location, item in _items(dep)]


def _toggle(dep: Deployment, kind: str, location: str, name: str, running: bool) -> InstigatorOut:
    wanted = ScheduleSnap if kind == "schedules" else SensorSnap
    match = next(
        (item for loc, item in _items(dep)
         if loc == location and item.name == name and isinstance(item, wanted)),
        None,
    )  # fmt: skip
    if match is None:
        raise HTTPException(404, f"no {kind[:-1]} '{name}' in location '{location}'")
    origin = origin_of(location, name)
    instigator_type = InstigatorType.SCHEDULE if kind == "schedules" else InstigatorType.SENSOR
    status = InstigatorStatus.RUNNING if running else InstigatorStatus.STOPPED
    state = dep.instance.get_instigator_state(origin) or InstigatorState(
        origin=origin, name=name, location=location, type=instigator_type, status=status
    )
    # A schedule turned on starts from now rather than catching up the time it was off.
    last = time.time() if running and kind == "schedules" else state.last_tick_at
    dep.instance.set_instigator_state(replace(state, status=status, last_tick_at=last))
    return _out(dep, location, match)


@router.post("/{kind}/{location}/{name}/start", response_model=InstigatorOut)
def start(
    kind: str, location: str, name: str, dep: Deployment = Depends(deployment)
) -> InstigatorOut:
    """Turn a schedule or sensor on (``kind`` is ``schedules`` or ``sensors``)."""
    if kind not in ("schedules", "sensors"):
        raise HTTPException(404, f"unknown kind '{kind}'")
    return _toggle(dep, kind, location, name, True)


@router.post("/{kind}/{location}/{name}/stop", response_model=InstigatorOut)
def stop(
    kind: str, location: str, name: str, dep: Deployment = Depends(deployment)
) -> InstigatorOut:
    """Turn a schedule or sensor off."""
    if kind not in ("schedules", "sensors"):
        raise HTTPException(404, f"unknown kind '{kind}'")
    return _toggle(dep, kind, location, name, False)

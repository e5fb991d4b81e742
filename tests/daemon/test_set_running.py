"""`set_running`: the one writer of on/off state, shared by the CLI and the UI."""

from __future__ import annotations

from pathlib import Path

from bakehouse.daemon.scheduler import set_running
from bakehouse.serdes import replace
from bakehouse.storage import Instance
from bakehouse.storage.records import InstigatorStatus, InstigatorType


def test_a_schedule_starts_from_now_once_and_a_second_start_keeps_its_place(
    tmp_path: Path,
) -> None:
    with Instance.for_home(tmp_path / ".bakehouse") as instance:
        kw = {"location": "bakery", "name": "nightly", "type": InstigatorType.SCHEDULE}
        state = set_running(instance, running=True, now=1000.0, **kw)  # type: ignore[arg-type]
        assert (state.status, state.last_tick_at) == (InstigatorStatus.RUNNING, 1000.0)
        # Running already: a pending catch-up since 1000 must not be dropped.
        state = set_running(instance, running=True, now=5000.0, **kw)  # type: ignore[arg-type]
        assert state.last_tick_at == 1000.0
        state = set_running(instance, running=False, now=6000.0, **kw)  # type: ignore[arg-type]
        assert (state.status, state.last_tick_at) == (InstigatorStatus.STOPPED, 1000.0)
        # Off, then on again: it does not catch up the time it was off.
        state = set_running(instance, running=True, now=9000.0, **kw)  # type: ignore[arg-type]
        assert state.last_tick_at == 9000.0


def test_a_sensor_keeps_its_last_tick_and_cursor_across_a_stop_and_start(tmp_path: Path) -> None:
    with Instance.for_home(tmp_path / ".bakehouse") as instance:
        kw = {"location": "bakery", "name": "watch", "type": InstigatorType.SENSOR}
        state = set_running(instance, running=True, now=10.0, **kw)  # type: ignore[arg-type]
        assert state.last_tick_at is None  # a sensor is evaluated at once
        instance.set_instigator_state(replace(state, cursor="file-7", last_tick_at=20.0))
        set_running(instance, running=False, now=30.0, **kw)  # type: ignore[arg-type]
        state = set_running(instance, running=True, now=40.0, **kw)  # type: ignore[arg-type]
        assert (state.cursor, state.last_tick_at) == ("file-7", 20.0)

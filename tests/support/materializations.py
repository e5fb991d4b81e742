"""Store materializations by hand, at a chosen time: what a finished run would have written."""

from __future__ import annotations

from bakehouse.storage import EventRecord, EventType, Instance, RunRecord, RunStatus


def store_materialization(
    instance: Instance, key: str, when: float, *, data: dict[str, object] | None = None
) -> str:
    """A run (STARTED) that materialized `key` at `when`, with event `data`; returns its id."""
    run_id = f"run-{key}-{when}"
    instance.create_run(RunRecord(run_id=run_id, asset_selection=(key,), status=RunStatus.STARTED))
    instance.store_event(
        EventRecord(
            run_id=run_id,
            event_type=EventType.ASSET_MATERIALIZATION,
            timestamp=when,
            asset_key=key,
            step_key=key,
            data=dict(data or {}),
        )
    )
    return run_id

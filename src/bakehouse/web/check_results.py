"""The latest result of each asset check, from an asset's newest check events.

A check's result is its newest ASSET_CHECK_EVALUATION, or the STEP_FAILURE of a check function
that raised (it names its checks in ``data["check_names"]``); the asset page and the catalog
read results the same way.
"""

from __future__ import annotations

from collections.abc import Iterable

from bakehouse.storage.records import EventRecord, EventType

# How many of an asset's newest check events are read to find each check's latest result.
HISTORY = 200


def latest_by_check(events: Iterable[EventRecord]) -> dict[str, EventRecord]:
    """Each check's newest result among `events` (newest first), by check name."""
    latest: dict[str, EventRecord] = {}
    for event in events:
        names = event.data.get("check_names") or [event.data.get("check_name")]
        for name in names:
            if name is not None:
                latest.setdefault(str(name), event)
    return latest


def outcome(event: EventRecord | None) -> str:
    """``passed``, ``failed``, ``errored`` (the check function raised) or ``never``."""
    if event is None:
        return "never"
    if event.event_type == EventType.STEP_FAILURE:
        return "errored"
    return "passed" if event.data.get("passed") else "failed"

"""Runs as the JSON documents ``bh`` prints (``bh runs list|show --json``, ``bh launch --json``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bakehouse import serdes
from bakehouse.storage.records import CorruptRecord, EventRecord, EventType, RunRecord


def run_json(run: RunRecord) -> dict[str, Any]:
    """A stored run: every field of its record, and its duration in seconds (None unfinished)."""
    data: dict[str, Any] = serdes.to_builtins(run)
    data["duration"] = run.duration
    return data


def corrupt_json(row: CorruptRecord) -> dict[str, Any]:
    """A run row that cannot be read, as `bh runs list --json` marks it."""
    return {"run_id": row.key, "corrupt": True, "reason": row.reason}


def outcome_json(run: RunRecord, events: Sequence[EventRecord]) -> dict[str, Any]:
    """What a launched run did: the run, the assets it materialized, its failed and skipped
    steps with their errors, and its check results."""

    def of(kind: EventType) -> list[EventRecord]:
        return [e for e in events if e.event_type is kind]

    return {
        "run": run_json(run),
        "materialized": [e.asset_key for e in of(EventType.ASSET_MATERIALIZATION)],
        "failed_steps": [
            {"step_key": e.step_key, "error": e.data.get("error")}
            for e in of(EventType.STEP_FAILURE)
        ],
        "skipped_steps": [e.step_key for e in of(EventType.STEP_SKIPPED)],
        "checks": [
            {
                "asset_key": e.asset_key,
                "check_name": e.data.get("check_name"),
                "passed": bool(e.data.get("passed")),
            }
            for e in of(EventType.ASSET_CHECK_EVALUATION)
        ],
        "run_failure": next((e.message for e in of(EventType.RUN_FAILURE)), None),
    }

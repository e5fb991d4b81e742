"""Instance storage on SQLite or PostgreSQL: runs, events, the asset index, schedules and sensors.

Host processes (CLI, webserver, daemon) and run workers alike use it; it imports nothing from the
authoring API or execution. See README.md in this folder for its contracts.
"""

from bakehouse.storage.instance import Instance
from bakehouse.storage.records import (
    RUN_STATUS_BY_EVENT,
    AssetMaterializationRecord,
    EventRecord,
    EventType,
    InstigatorState,
    InstigatorStatus,
    InstigatorType,
    RunRecord,
    RunStatus,
    TickRecord,
    TickStatus,
)

__all__ = [
    "RUN_STATUS_BY_EVENT",
    "AssetMaterializationRecord",
    "EventRecord",
    "EventType",
    "Instance",
    "InstigatorState",
    "InstigatorStatus",
    "InstigatorType",
    "RunRecord",
    "RunStatus",
    "TickRecord",
    "TickStatus",
]

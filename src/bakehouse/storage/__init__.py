"""Instance storage on SQLite or PostgreSQL: runs, events, the asset and partition indexes,
schedules, sensors and backfills.

Host processes (CLI, webserver, daemon) and run workers alike use it; it imports nothing from the
authoring API or execution. See README.md in this folder for its contracts.
"""

from bakehouse.storage.instance import Instance
from bakehouse.storage.records import (
    BACKFILL_TAG,
    PARTITION_TAG,
    RUN_STATUS_BY_EVENT,
    AssetMaterializationRecord,
    BackfillRecord,
    BackfillStatus,
    EventRecord,
    EventType,
    InstigatorState,
    InstigatorStatus,
    InstigatorType,
    PartitionStatus,
    RunRecord,
    RunStatus,
    TickRecord,
    TickStatus,
)

__all__ = [
    "BACKFILL_TAG",
    "PARTITION_TAG",
    "RUN_STATUS_BY_EVENT",
    "AssetMaterializationRecord",
    "BackfillRecord",
    "BackfillStatus",
    "EventRecord",
    "EventType",
    "Instance",
    "InstigatorState",
    "InstigatorStatus",
    "InstigatorType",
    "PartitionStatus",
    "RunRecord",
    "RunStatus",
    "TickRecord",
    "TickStatus",
]

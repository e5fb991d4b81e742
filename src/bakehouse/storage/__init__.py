"""Instance storage on SQLite or PostgreSQL: runs, events, the asset and partition indexes,
schedules, sensors and backfills.

Host processes (CLI, webserver, daemon) and run workers alike use it; it imports nothing from the
authoring API or execution. See README.md in this folder for its contracts.
"""

from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from bakehouse.storage.instance import Instance

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


def __getattr__(name: str) -> Any:
    # `Instance` is imported on first use: it brings SQLAlchemy (~150 ms), which code that only
    # needs the records (the CLI before it opens storage, code servers) should not wait for.
    if name == "Instance":
        from bakehouse.storage.instance import Instance

        return Instance
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

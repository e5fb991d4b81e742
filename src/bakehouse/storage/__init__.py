"""Instance storage: runs, the event log and the asset index, on SQLite or PostgreSQL.

Host processes (CLI, webserver, daemon) and run workers alike use it; it imports nothing from the
authoring API or execution. See README.md in this folder for its contracts.
"""

from bakehouse.storage.instance import Instance
from bakehouse.storage.records import (
    RUN_STATUS_BY_EVENT,
    AssetMaterializationRecord,
    EventRecord,
    EventType,
    RunRecord,
    RunStatus,
)

__all__ = [
    "RUN_STATUS_BY_EVENT",
    "AssetMaterializationRecord",
    "EventRecord",
    "EventType",
    "Instance",
    "RunRecord",
    "RunStatus",
]

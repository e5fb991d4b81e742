"""`InstanceProtocol`: the calls on instance storage that code outside `storage` makes.

The run engine, run workers and the daemon's run queue take any object with these calls (in use:
`storage.Instance`); naming them here types those parameters without importing SQLAlchemy, and
shows what a second implementation would need.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

from bakehouse.storage.records import (
    EventRecord,
    EventType,
    RunRecord,
    RunStatus,
    WorkerClaim,
    WorkerRecord,
)


class InstanceProtocol(Protocol):
    """Runs, their event logs and dynamic partition keys, and where stored values go."""

    @property
    def url(self) -> str:
        """The database URL the instance opened."""
        ...

    @property
    def storage_dir(self) -> Path:
        """The folder where IO managers keep stored values by default."""
        ...

    def create_run(self, run: RunRecord) -> RunRecord:
        """Store a new run."""
        ...

    def get_run(self, run_id: str) -> RunRecord:
        """The run `run_id`; raises RunNotFoundError."""
        ...

    def get_runs(
        self,
        *,
        limit: int | None = 50,
        statuses: Sequence[RunStatus] | None = None,
        before_created_at: float | None = None,
    ) -> list[RunRecord]:
        """Runs, newest first."""
        ...

    def get_runs_by_tag(self, key: str, value: str, *, limit: int | None = None) -> list[RunRecord]:
        """Runs whose tag `key` is `value`, newest first."""
        ...

    def update_run(self, run_id: str, /, **changes: Any) -> RunRecord:
        """Change fields of a run and return it."""
        ...

    def store_event(self, event: EventRecord) -> EventRecord:
        """Append an event (and the run status or index change it implies)."""
        ...

    def store_events(self, events: Iterable[EventRecord]) -> list[EventRecord]:
        """Append events in one transaction."""
        ...

    def get_events(
        self,
        run_id: str,
        *,
        after_storage_id: int = 0,
        limit: int | None = None,
        event_types: Sequence[EventType] | None = None,
    ) -> list[EventRecord]:
        """The run's events after a cursor, in order."""
        ...

    def get_materialization_history(
        self, asset_key: str, *, partition_key: str | None = None, limit: int | None = 20
    ) -> list[EventRecord]:
        """The asset's materialization events (of one partition, if given), newest first."""
        ...

    def get_dynamic_partitions(self, partitions_def_name: str) -> list[str]:
        """The keys of a dynamic partitions definition, in the order they were added."""
        ...

    def has_dynamic_partition(self, partitions_def_name: str, partition_key: str) -> bool:
        """True if `partition_key` is a key of the dynamic partitions definition now."""
        ...

    def get_workers(self, *, seen_since: float | None = None) -> list[WorkerRecord]:
        """Step workers by id; only those heard from at or after `seen_since` when given."""
        ...

    def get_step_claims(self, run_id: str) -> list[WorkerClaim]:
        """Which worker took each attempt of each step of `run_id`, oldest first."""
        ...

    def close(self) -> None:
        """Release the instance's connections."""
        ...

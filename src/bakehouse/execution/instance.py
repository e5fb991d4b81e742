"""`DagsterInstance`: instance storage under Dagster's name and with the calls user code makes.

Dagster code reads runs and materializations through ``context.instance`` or an instance it
opened (``DagsterInstance.ephemeral()`` in tests); this wraps bakehouse's `Instance` so those
calls work, and passes every other attribute through to it.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from bakehouse.authoring.metadata import MetadataValue
from bakehouse.authoring.sensors import AssetMaterialization, EventLogEntry
from bakehouse.errors import ExecutionError, RunNotFoundError
from bakehouse.graph.keys import AssetKey, CoercibleToAssetKey, coerce_key
from bakehouse.storage.records import EventRecord, EventType, RunRecord, RunStatus

if TYPE_CHECKING:
    from bakehouse.storage.protocol import InstanceProtocol

DagsterEventType = EventType
"""The kinds of event in the event log, under Dagster's name."""


@dataclass(frozen=True)
class RunsFilter:
    """Which runs `DagsterInstance.get_runs` returns; unset fields match every run."""

    run_ids: Sequence[str] | None = None
    job_name: str | None = None
    statuses: Sequence[RunStatus | str] | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def matches(self, run: RunRecord) -> bool:
        """True if `run` passes every field that is set."""
        if self.run_ids is not None and run.run_id not in self.run_ids:
            return False
        if self.job_name is not None and run.job_name != self.job_name:
            return False
        if self.statuses is not None:
            wanted = {str(getattr(s, "value", s)) for s in self.statuses}
            if run.status.value not in wanted:
                return False
        return all(run.tags.get(k) == v for k, v in self.tags.items())


@dataclass(frozen=True)
class EventRecordsFilter:
    """Which events `DagsterInstance.get_event_records` returns: one type, of one asset."""

    event_type: EventType
    asset_key: AssetKey | None = None
    asset_partitions: Sequence[str] | None = None


@dataclass(frozen=True)
class AssetRecordsFilter:
    """Which materializations `DagsterInstance.fetch_materializations` returns."""

    asset_key: AssetKey
    asset_partitions: Sequence[str] | None = None


@dataclass(frozen=True)
class EventLogRecord:
    """One stored event with its storage id, as Dagster's record queries return it."""

    storage_id: int
    event_log_entry: EventLogEntry

    @property
    def asset_materialization(self) -> AssetMaterialization:
        """The materialization the event records."""
        return self.event_log_entry.asset_materialization

    @property
    def run_id(self) -> str:
        """The run that wrote the event."""
        return self.event_log_entry.run_id

    @property
    def timestamp(self) -> float:
        """When the event was written (POSIX seconds)."""
        return self.event_log_entry.timestamp

    @property
    def partition_key(self) -> str | None:
        """The partition materialized, if any."""
        return self.asset_materialization.partition

    @property
    def asset_key(self) -> AssetKey:
        """The materialized asset."""
        return self.asset_materialization.asset_key


@dataclass(frozen=True)
class EventRecordsResult:
    """A page of records: `records`, newest first unless asked otherwise, and the next cursor."""

    records: list[EventLogRecord]
    cursor: str
    has_more: bool


def event_log_entry(record: EventRecord) -> EventLogEntry:
    """A stored materialization event as Dagster's `EventLogEntry`, metadata typed."""
    stored = record.data.get("metadata", {})
    return EventLogEntry(
        run_id=record.run_id,
        timestamp=record.timestamp,
        storage_id=record.storage_id or 0,
        asset_materialization=AssetMaterialization(
            asset_key=AssetKey.from_user_string(record.asset_key or ""),
            metadata={k: MetadataValue.from_json(v) for k, v in stored.items()},
            partition=record.partition_key,
        ),
    )


class DagsterInstance:
    """Runs, events and dynamic partitions, read and written as Dagster code does.

    `ephemeral()` keeps everything in memory (gone once closed or garbage-collected); `get()`
    opens the project's storage, as `bh` does. Calls that Dagster does not have, or names the
    same, go to bakehouse's `Instance` unchanged (`storage`).
    """

    def __init__(self, storage: InstanceProtocol, *, owned: bool = False) -> None:
        """Wrap an open `storage`; with `owned`, closing this closes it."""
        self.storage = storage
        self._owned = owned
        self._finalizer = weakref.finalize(self, storage.close) if owned else None

    @classmethod
    def ephemeral(cls) -> DagsterInstance:
        """An in-memory instance (SQLite), for tests."""
        from bakehouse.storage.instance import Instance

        return cls(Instance.ephemeral(), owned=True)

    @classmethod
    def get(cls) -> DagsterInstance:
        """The configured instance: ``BAKEHOUSE_STORAGE_URL`` / ``BAKEHOUSE_HOME`` if set, else
        the ``.bakehouse/`` folder of the project or workspace around the working directory.

        Outside any project, with neither variable set, raises `ExecutionError` (as Dagster's
        does without ``DAGSTER_HOME``).
        """
        from bakehouse.errors import ProjectError
        from bakehouse.project.workspace import find_workspace
        from bakehouse.storage.instance import ENV_HOME, ENV_STORAGE_URL, Instance

        durability = None
        try:
            workspace = find_workspace(Path.cwd())
            home, durability = workspace.home, workspace.durability
        except ProjectError:
            if not (os.environ.get(ENV_HOME) or os.environ.get(ENV_STORAGE_URL)):
                raise ExecutionError(
                    f"DagsterInstance.get(): {Path.cwd()} is in no bakehouse project and neither "
                    f"{ENV_HOME} nor {ENV_STORAGE_URL} is set; use DagsterInstance.ephemeral() "
                    "in tests"
                ) from None
            home = Path.cwd() / ".bakehouse"
        return cls(Instance.from_env(home, durability=durability), owned=True)

    # -- runs -------------------------------------------------------------------------------

    def storage_directory(self) -> str:
        """The folder where runs store files (the default IO manager's values among them)."""
        return str(self.storage.storage_dir)

    def get_runs(
        self, filters: RunsFilter | None = None, cursor: str | None = None, limit: int | None = None
    ) -> list[RunRecord]:
        """Runs, newest first, that pass `filters`; after run id `cursor`, at most `limit`."""
        runs = [r for r in self.storage.get_runs(limit=None) if not filters or filters.matches(r)]
        if cursor is not None:
            ids = [r.run_id for r in runs]
            runs = runs[ids.index(cursor) + 1 :] if cursor in ids else []
        return runs if limit is None else runs[:limit]

    def get_run_by_id(self, run_id: str) -> RunRecord | None:
        """The run `run_id`, or None."""
        try:
            return self.storage.get_run(run_id)
        except RunNotFoundError:
            return None

    def get_runs_count(self, filters: RunsFilter | None = None) -> int:
        """How many runs pass `filters`."""
        return len(self.get_runs(filters))

    # -- materializations -------------------------------------------------------------------

    def get_latest_materialization_event(
        self, asset_key: CoercibleToAssetKey
    ) -> EventLogEntry | None:
        """The newest materialization of `asset_key`, or None if it was never materialized."""
        history = self.storage.get_materialization_history(
            coerce_key(asset_key).to_user_string(), limit=1
        )
        return event_log_entry(history[0]) if history else None

    def fetch_materializations(
        self,
        records_filter: CoercibleToAssetKey | AssetRecordsFilter,
        limit: int,
        cursor: str | None = None,
        ascending: bool = False,
    ) -> EventRecordsResult:
        """A page of an asset's materializations (newest first unless `ascending`).

        Pass the returned cursor back to read the next page.
        """
        if isinstance(records_filter, AssetRecordsFilter):
            wanted = records_filter
        else:
            wanted = AssetRecordsFilter(coerce_key(records_filter))
        records = self._materializations(wanted.asset_key, wanted.asset_partitions, ascending)
        if cursor:
            after = int(cursor)
            records = [
                r for r in records if (r.storage_id > after if ascending else r.storage_id < after)
            ]
        page = records[:limit]
        next_cursor = str(page[-1].storage_id) if page else (cursor or "")
        return EventRecordsResult(page, next_cursor, has_more=len(records) > limit)

    def get_event_records(
        self,
        event_records_filter: EventRecordsFilter,
        limit: int | None = None,
        ascending: bool = False,
    ) -> list[EventLogRecord]:
        """Materialization events of one asset (of `asset_partitions`, if given), newest first
        unless `ascending`; other event types are not queried this way in bakehouse."""
        wanted = event_records_filter
        if EventType(wanted.event_type) != EventType.ASSET_MATERIALIZATION or not wanted.asset_key:
            raise ExecutionError(
                "get_event_records reads ASSET_MATERIALIZATION events of one asset_key in "
                f"bakehouse (got event_type={wanted.event_type!s}, asset_key={wanted.asset_key})"
            )
        records = self._materializations(wanted.asset_key, wanted.asset_partitions, ascending)
        return records if limit is None else records[:limit]

    def _materializations(
        self, key: AssetKey, partitions: Sequence[str] | None, ascending: bool
    ) -> list[EventLogRecord]:
        name = coerce_key(key).to_user_string()
        if partitions is None:
            events = self.storage.get_materialization_history(name, limit=None)
        else:
            events = [
                e
                for p in partitions
                for e in self.storage.get_materialization_history(name, partition_key=p, limit=None)
            ]
        records = [EventLogRecord(e.storage_id or 0, event_log_entry(e)) for e in events]
        return sorted(records, key=lambda r: r.storage_id, reverse=not ascending)

    # -- everything else --------------------------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        # Dynamic partitions, asset checks, backfills...: the same calls as bakehouse's Instance.
        if name == "storage":  # not set yet: never recurse
            raise AttributeError(name)
        return getattr(self.storage, name)

    def close(self) -> None:
        """Close the storage if this instance opened it; idempotent."""
        if self._finalizer is not None:
            self._finalizer()

    def __enter__(self) -> DagsterInstance:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<DagsterInstance {self.storage!r}>"


def storage_of(instance: DagsterInstance | InstanceProtocol) -> InstanceProtocol:
    """bakehouse's `Instance` behind `instance` (a `DagsterInstance`, or one already)."""
    return instance.storage if isinstance(instance, DagsterInstance) else instance


def as_dagster_instance(
    instance: DagsterInstance | InstanceProtocol | None,
) -> DagsterInstance | None:
    """`instance` as user code sees it (``context.instance``): a `DagsterInstance` view."""
    if instance is None or isinstance(instance, DagsterInstance):
        return instance
    return DagsterInstance(instance)

"""What automation conditions are evaluated against: one tick's view of storage and snapshots.

Read lazily and once per tick: each asset's partitions (capped at the newest
`MAX_PARTITIONS`), which of them are materialized and by which event and run, which are in an
unfinished run or backfill, which failed. An unpartitioned asset has one target, ``""``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING

from bakehouse.graph.time_ticks import get_zone, ticks_for
from bakehouse.graph.time_windows import tick_at_or_before
from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.host.partition_keys import partition_keys
from bakehouse.protocol.snapshot import AssetNodeSnap, TimeWindowPartitionsSnap
from bakehouse.storage.automation_records import UNPARTITIONED
from bakehouse.storage.records import (
    AssetMaterializationRecord,
    BackfillRecord,
    BackfillStatus,
    EventType,
    PartitionStatus,
    RunRecord,
    RunStatus,
)

if TYPE_CHECKING:
    from bakehouse.storage import Instance

MAX_PARTITIONS = 1000
"""Partitions of one asset a condition is evaluated for: the newest ones (time windows are
oldest first, so the latest window is always among them)."""

_UNFINISHED_RUNS = [RunStatus.QUEUED, RunStatus.STARTING, RunStatus.STARTED, RunStatus.CANCELING]


@dataclass(eq=False)
class Facts:
    """Storage and the global graph as one tick of the automation daemon sees them."""

    instance: Instance
    graph: GlobalAssetGraph
    now: float
    _runs: dict[str, RunRecord] = field(default_factory=dict)

    def node(self, key: str) -> AssetNodeSnap | None:
        """The asset's snapshot node, None if no location knows it."""
        placed = self.graph.assets.get(key)
        return placed.node if placed is not None else None

    def deps(self, key: str) -> tuple[str, ...]:
        """The asset's upstream keys."""
        node = self.node(key)
        return node.deps if node is not None else ()

    def is_materializable(self, key: str) -> bool:
        """True if a location can materialize it (external and unknown assets cannot)."""
        return self.graph.location_of(key) is not None

    @cache  # noqa: B019 - one Facts lives for one tick
    def partitions(self, key: str) -> tuple[str, ...]:
        """The asset's targets: its partition keys (the newest `MAX_PARTITIONS`), or ``("",)``."""
        node = self.node(key)
        if node is None or node.partitions is None:
            return (UNPARTITIONED,)
        keys = partition_keys(
            node.partitions, dynamic_keys=self.instance.get_dynamic_partitions, now=self.now
        )
        return tuple(keys[-MAX_PARTITIONS:])

    def partitions_snap_of(self, key: str) -> object:
        """What says whether two assets' partitions match (their snapshots' partitions)."""
        node = self.node(key)
        return node.partitions if node is not None else None

    def latest_time_window(self, key: str, lookback_seconds: float | None) -> set[str]:
        """The partitions in the latest time window (within `lookback_seconds` of its end);
        every target of an asset that is not time-partitioned."""
        node = self.node(key)
        keys = self.partitions(key)
        if node is None or not isinstance(node.partitions, TimeWindowPartitionsSnap) or not keys:
            return set(keys)
        if not lookback_seconds:
            return {keys[-1]}
        ticks = ticks_for(
            node.partitions.cron_schedule, get_zone(node.partitions.timezone or "UTC")
        )
        end = tick_at_or_before(ticks, self.now).timestamp()
        # Window i ends where window i+1 starts; the newest ends at `end`.
        starts = [end]
        moment = end
        for _ in range(len(keys)):
            moment = ticks.before(moment).timestamp()
            if moment < end - lookback_seconds - 1e-6:
                break
            starts.append(moment)
        count = max(1, len(starts) - 1)
        return set(keys[-count:])

    @cache  # noqa: B019
    def materializations(self, key: str) -> dict[str, AssetMaterializationRecord]:
        """The newest materialization of each target that has one."""
        if self.partitions(key) != (UNPARTITIONED,):
            return self.instance.get_latest_partition_materializations(key, self.partitions(key))
        latest = self.instance.get_latest_materializations([key]).get(key)
        return {UNPARTITIONED: latest} if latest is not None else {}

    def missing(self, key: str) -> set[str]:
        """Targets never materialized (an asset no location materializes is never missing:
        it lives outside bakehouse)."""
        if not self.is_materializable(key):
            return set()
        done = self.materializations(key)
        return {p for p in self.partitions(key) if p not in done}

    def updated_after(self, key: str, storage_id: int) -> set[str]:
        """Targets materialized by an event newer than `storage_id`."""
        return {p for p, m in self.materializations(key).items() if m.storage_id > storage_id}

    @cache  # noqa: B019
    def _unfinished_runs(self) -> tuple[RunRecord, ...]:
        return tuple(self.instance.get_runs(limit=None, statuses=_UNFINISHED_RUNS))

    def run_in_progress(self, key: str) -> set[str]:
        """Targets that an unfinished run materializes."""
        found: set[str] = set()
        for run in self._unfinished_runs():
            if key in run.asset_selection:
                found |= self._run_partitions(key, run)
        return found & set(self.partitions(key))

    def _run_partitions(self, key: str, run: RunRecord) -> set[str]:
        if run.partition_key is not None:
            return {run.partition_key}
        if run.partition_range is not None:
            keys = list(self.partitions(key))
            first, last = run.partition_range
            if first in keys and last in keys:
                return set(keys[keys.index(first) : keys.index(last) + 1])
            return set(keys)
        return {UNPARTITIONED}

    @cache  # noqa: B019
    def _unfinished_backfills(self) -> tuple[BackfillRecord, ...]:
        statuses = [BackfillStatus.REQUESTED, BackfillStatus.CANCELING]
        return tuple(self.instance.get_backfills(statuses=statuses))

    def backfill_in_progress(self, key: str) -> set[str]:
        """Targets in an unfinished backfill whose run for them has not finished."""
        found: set[str] = set()
        partitioned = self.partitions(key) != (UNPARTITIONED,)
        for backfill in self._unfinished_backfills():
            if key not in backfill.asset_selection:
                continue
            for target in backfill.partition_keys if partitioned else (UNPARTITIONED,):
                run_id = backfill.partition_runs.get(target)
                run = self.run(run_id) if run_id is not None else None
                if run is None or not run.status.is_finished:
                    found.add(target)
        return found & set(self.partitions(key))

    def execution_failed(self, key: str) -> set[str]:
        """Targets whose latest attempt failed."""
        node = self.node(key)
        if node is not None and node.partitions is not None:
            statuses = self.instance.get_partition_status(key)
            return {p for p, s in statuses.items() if s == PartitionStatus.FAILED} & set(
                self.partitions(key)
            )
        latest = self.materializations(key).get(UNPARTITIONED)
        for run in self.instance.get_runs(limit=50):
            if key not in run.asset_selection or not run.status.is_finished:
                continue
            if latest is not None and run.run_id == latest.run_id:
                return set()
            return {UNPARTITIONED} if run.status == RunStatus.FAILURE else set()
        return set()

    def run(self, run_id: str) -> RunRecord | None:
        """The run `run_id` (read once per tick), None if it is gone."""
        if run_id not in self._runs:
            try:
                self._runs[run_id] = self.instance.get_run(run_id)
            except Exception:  # noqa: BLE001 - a deleted or unreadable run counts as none
                return None
        return self._runs[run_id]

    def updated_with(self, key: str, root: str) -> set[str]:
        """Targets of `key` whose newest materialization came from a run that also
        materialized `root`."""
        found = set()
        for partition, materialization in self.materializations(key).items():
            run = self.run(materialization.run_id)
            if run is not None and root in run.asset_selection:
                found.add(partition)
        return found

    def checks(self, key: str, *, blocking_only: bool) -> list[str]:
        """The names of the asset's checks (from every location), blocking ones only if asked."""
        return sorted(
            p.check.name
            for p in self.graph.checks.get(key, [])
            if p.check.blocking or not blocking_only
        )

    @cache  # noqa: B019
    def check_results(self, key: str) -> dict[str, bool]:
        """Each check's latest result against the asset's latest materialization: True if it
        passed, False if it failed or raised; checks with no such result are absent."""
        newest = max((m.storage_id for m in self.materializations(key).values()), default=0)
        found: dict[str, bool] = {}
        for event in self.instance.get_asset_check_history(key, limit=200):
            if (event.storage_id or 0) < newest:
                break  # older than the materialization: about data that is gone
            names = event.data.get("check_names") or [event.data.get("check_name")]
            for name in names:
                if name is not None and str(name) not in found:
                    passed = event.event_type == EventType.ASSET_CHECK_EVALUATION and bool(
                        event.data.get("passed")
                    )
                    found[str(name)] = passed
        return found

    def mapped(self, dep: str, partition: str) -> set[str]:
        """The targets of `dep` that target `partition` of its child reads: the same key when
        both share their partitions, else all of them."""
        dep_keys = self.partitions(dep)
        if dep_keys == (UNPARTITIONED,):
            return {UNPARTITIONED}
        if partition != UNPARTITIONED and partition in dep_keys:
            return {partition}
        return set(dep_keys)


# croniter's nicknames, as five fields (the host's tick maths reads five fields).
_NICKNAMES = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}


def cron_tick_passed(cron_schedule: str, timezone: str | None, since: float, now: float) -> bool:
    """True if a tick of `cron_schedule` fell at or after `since` and at or before `now`."""
    cron = _NICKNAMES.get(cron_schedule.strip().lower(), cron_schedule)
    ticks = ticks_for(cron, get_zone(timezone or "UTC"))
    latest: datetime = tick_at_or_before(ticks, now)
    return latest.timestamp() >= since

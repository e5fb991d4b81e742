"""The backfill loop: launches the queued runs of each requested backfill.

One run per partition by default; with the assets' `BackfillPolicy`, one run per range of
partitions: the whole backfill (`single_run`) or chunks of at most `max_partitions_per_run`.
A run of a range materializes every key between its first and last, so a range is only ever
made of keys that are adjacent in the partitions definition: a backfill with gaps (e.g. only
the missing partitions) gets one run per stretch without gaps.

The partitions of a run are claimed together (`Instance.claim_backfill_partitions`, all or
none) before the run is created with the claimed id, so a daemon killed between the two finds
the claim on restart and creates that same run, never a second one. Concurrency is the run
queue's; this loop only keeps each backfill from flooding the queue: at most
`max_unfinished_runs` of its runs are unfinished at a time.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bakehouse.daemon.loop import Clock, LaunchingLoop
from bakehouse.errors import LaunchError, StorageError
from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.host.launching import plan_run, submit
from bakehouse.host.partition_keys import partition_keys
from bakehouse.host.run_coordinator import RunCoordinator
from bakehouse.host.supervisor import LocationSupervisor
from bakehouse.serdes import replace
from bakehouse.storage.records import (
    BACKFILL_TAG,
    PARTITION_RANGE_END_TAG,
    PARTITION_RANGE_START_TAG,
    PARTITION_TAG,
    UNPARTITIONED_AFTER_KEY,
    UNPARTITIONED_BEFORE_KEY,
    BackfillRecord,
    BackfillStatus,
    RunRecord,
    RunStatus,
)

if TYPE_CHECKING:
    from bakehouse.storage import Instance

log = logging.getLogger("bakehouse.daemon.backfills")


def _noun(backfill: BackfillRecord) -> str:
    """What a backfill's rows are called in its messages: partitions, or runs when some row
    is the run of its unpartitioned assets."""
    once = backfill.unpartitioned_before or backfill.unpartitioned_after
    return "runs" if once else "partitions"


def unfinished_limit(max_concurrent_runs: int) -> int:
    """How many unfinished runs one backfill may have: enough to keep the queue busy."""
    return max(2, max_concurrent_runs)


@dataclass(frozen=True)
class BackfillPass:
    """What one pass did for one backfill."""

    backfill_id: str
    launched: list[str]
    status: BackfillStatus


class BackfillDaemon(LaunchingLoop):
    """Carries out REQUESTED and CANCELING backfills; `tick` does one pass over them."""

    name = "backfills"

    def __init__(
        self,
        instance: Instance,
        supervisor: LocationSupervisor,
        coordinator: RunCoordinator,
        *,
        clock: Clock = time.time,
        max_unfinished_runs: int = 10,
        on_launch: Callable[[], None] | None = None,
        interval: float = 1.0,
    ) -> None:
        super().__init__(instance, supervisor, interval=interval, clock=clock, on_launch=on_launch)
        self.coordinator = coordinator
        self.max_unfinished_runs = max_unfinished_runs

    def tick(self) -> list[BackfillPass]:
        """Advance every backfill that is not finished; returns what each pass did."""
        active = self.instance.get_backfills(
            statuses=[BackfillStatus.REQUESTED, BackfillStatus.CANCELING]
        )
        done = []
        for backfill in reversed(active):  # oldest first
            try:
                done.append(self.advance(backfill))
            except Exception:  # one bad backfill must not stop the others
                log.exception("backfill %s: pass failed; retrying", backfill.backfill_id)
        return done

    def advance(self, backfill: BackfillRecord) -> BackfillPass:
        """One step of one backfill: cancel, launch what it may, or mark it done."""
        runs = {
            r.run_id: r for r in self.instance.get_runs_by_tag(BACKFILL_TAG, backfill.backfill_id)
        }
        if backfill.status is BackfillStatus.CANCELING:
            return self._cancel(backfill, runs)
        graph = self._wait_reason_or_graph(backfill)
        if isinstance(graph, str):
            self._say(backfill, graph)
            return BackfillPass(backfill.backfill_id, [], backfill.status)
        launched: list[str] = []
        # Claims whose run was never created (a daemon killed in between) get that very run,
        # over the very keys claimed for it (in the backfill's order).
        orphans: dict[str, list[str]] = {}
        for key, run_id in backfill.partition_runs.items():
            if run_id not in runs:
                orphans.setdefault(run_id, []).append(key)
        try:
            for run_id, keys in orphans.items():
                self._create_and_note(graph, backfill, keys, run_id, runs, launched)
            return self._launch(graph, backfill, runs, launched)
        except LaunchError as exc:
            # A partition removed since the request (a dynamic key deleted), say: it will not
            # fit on any later pass either.
            self.instance.update_backfill(
                backfill.backfill_id, status=BackfillStatus.FAILED, error=str(exc),
                status_message=f"a run could not be launched: {exc}",
            )  # fmt: skip
            return BackfillPass(backfill.backfill_id, launched, BackfillStatus.FAILED)

    def _launch(
        self,
        graph: GlobalAssetGraph,
        backfill: BackfillRecord,
        runs: dict[str, RunRecord],
        launched: list[str],
    ) -> BackfillPass:
        """Launch the runs the backfill may have now, or mark it done."""
        unfinished = sum(1 for r in runs.values() if not r.status.is_finished)
        claimed = dict(backfill.partition_runs)

        # The unpartitioned run before, the partition runs once it succeeded, the unpartitioned
        # run after once every partition run succeeded.
        def succeeded(key: str) -> bool:
            run = runs.get(claimed.get(key, ""))
            return run is not None and run.status is RunStatus.SUCCESS

        steps: list[list[str]] = []
        if backfill.unpartitioned_before and UNPARTITIONED_BEFORE_KEY not in claimed:
            steps.append([UNPARTITIONED_BEFORE_KEY])
        elif not backfill.unpartitioned_before or succeeded(UNPARTITIONED_BEFORE_KEY):
            steps.extend(self._chunks(graph, backfill, claimed))
            after_ready = all(succeeded(k) for k in backfill.partition_keys)
            if backfill.unpartitioned_after and not steps and after_ready:
                steps.append([UNPARTITIONED_AFTER_KEY])
        for chunk in steps:
            if unfinished >= self.max_unfinished_runs or any(k in claimed for k in chunk):
                break
            run_id = str(uuid.uuid4())
            earlier = self.instance.claim_backfill_partitions(backfill.backfill_id, chunk, run_id)
            if earlier:  # another daemon got there first; its run ids stand
                claimed.update(earlier)
                continue
            claimed.update(dict.fromkeys(chunk, run_id))
            if self._create_and_note(graph, backfill, chunk, run_id, runs, launched):
                unfinished += 1
        if launched:
            self.launched()
        return self._finish_or_report(backfill, claimed, runs, launched)

    def _create_and_note(
        self,
        graph: GlobalAssetGraph,
        backfill: BackfillRecord,
        keys: list[str],
        run_id: str,
        runs: dict[str, RunRecord],
        launched: list[str],
    ) -> bool:
        """Create the run claimed for `keys`, adding it to `runs` and `launched`."""
        run = self._create_run(graph, backfill, keys, run_id)
        if run is None:
            return False
        runs[run.run_id] = run
        launched.append(run.run_id)
        return True

    @staticmethod
    def _blocked(
        backfill: BackfillRecord, claimed: dict[str, str], runs: dict[str, RunRecord]
    ) -> set[str]:
        """Claim keys that will never get a run: every partition when the unpartitioned run
        before did not succeed, the unpartitioned run after when some partition run did not."""

        def failed(key: str) -> bool:
            run = runs.get(claimed.get(key, ""))
            return (
                run is not None and run.status.is_finished and run.status is not RunStatus.SUCCESS
            )

        blocked: set[str] = set()
        if backfill.unpartitioned_before and failed(UNPARTITIONED_BEFORE_KEY):
            blocked.update(backfill.partition_keys)
        if backfill.unpartitioned_after and (
            blocked or any(failed(k) for k in backfill.partition_keys)
        ):
            blocked.add(UNPARTITIONED_AFTER_KEY)
        return blocked

    def _wait_reason_or_graph(self, backfill: BackfillRecord) -> GlobalAssetGraph | str:
        """The graph to launch from, or why the backfill must wait (a location not serving)."""
        states = {s.name: s for s in self.supervisor.states()}
        graph = GlobalAssetGraph([s.snapshot for s in states.values() if s.snapshot is not None])
        wanted = {graph.location_of(k) for k in backfill.asset_selection}
        if backfill.location_name is not None:
            wanted.add(backfill.location_name)
        for name in sorted(n for n in wanted if n is not None):
            state = states.get(name)
            if state is None:
                return f"waiting: location '{name}' is not in the workspace"
            if not state.status.is_serving:
                return f"waiting for location '{name}', which is {state.status.value}"
        missing = [k for k in backfill.asset_selection if graph.location_of(k) is None]
        if missing:
            return f"waiting: no serving location defines {', '.join(missing)}"
        return graph

    def _chunks(
        self, graph: GlobalAssetGraph, backfill: BackfillRecord, claimed: dict[str, str]
    ) -> list[list[str]]:
        """The partitions not claimed yet, grouped into the runs to launch, in order: each a
        stretch of keys adjacent in the partitions definition, at most the policy's size."""
        pending = [k for k in backfill.partition_keys if k not in claimed]
        size = None if backfill.single_run else max(1, backfill.max_partitions_per_run)
        if size == 1 or len(pending) <= 1:
            return [[k] for k in pending]
        snap = graph.assets[backfill.partitioned_assets[0]].node.partitions
        valid = (
            partition_keys(snap, dynamic_keys=self.instance.get_dynamic_partitions)
            if snap is not None
            else []
        )
        position = {key: i for i, key in enumerate(valid)}
        chunks: list[list[str]] = []
        for key in pending:
            last = chunks[-1] if chunks else None
            adjacent = (
                last is not None
                and key in position
                and last[-1] in position
                and position[key] == position[last[-1]] + 1
            )
            if last is not None and adjacent and (size is None or len(last) < size):
                last.append(key)
            else:
                chunks.append([key])
        return chunks

    def _create_run(
        self, graph: GlobalAssetGraph, backfill: BackfillRecord, keys: list[str], run_id: str
    ) -> RunRecord | None:
        """The run of `keys`: one partition, the range from the first to the last, or (a
        reserved key) the backfill's unpartitioned assets before or after the partitions."""
        tags = {**backfill.tags, BACKFILL_TAG: backfill.backfill_id}
        once = {
            UNPARTITIONED_BEFORE_KEY: backfill.unpartitioned_before,
            UNPARTITIONED_AFTER_KEY: backfill.unpartitioned_after,
        }.get(keys[0])
        selected = once if once is not None else backfill.partitioned_assets
        # Assets with a policy get a run of a range even for one key, as Dagster launches them:
        # their functions read the range and may return a dict by partition key.
        ranged = len(keys) > 1 or backfill.single_run or backfill.max_partitions_per_run > 1
        if once is not None:
            pass  # no partition: the run materializes each unpartitioned asset once
        elif not ranged:
            tags[PARTITION_TAG] = keys[0]
        else:
            tags[PARTITION_RANGE_START_TAG] = keys[0]
            tags[PARTITION_RANGE_END_TAG] = keys[-1]
        partitioned = once is None
        plan = plan_run(
            graph,
            dynamic_keys=self.instance.get_dynamic_partitions,
            asset_keys=list(selected),
            job_name=backfill.job_name,
            # The backfill's own tags passed the limits when it was requested.
            system_tags=tags,
            run_config=backfill.run_config,
            run_id=run_id,
            partition_key=keys[0] if partitioned and not ranged else None,
            partition_range=(keys[0], keys[-1]) if partitioned and ranged else None,
        )
        plan = replace(plan, selection_query=backfill.selection_query)
        try:
            return submit(self.instance, plan)
        except StorageError:  # created meanwhile by another daemon: it exists, which we want
            log.info("backfill %s: run %s exists already", backfill.backfill_id, run_id)
            return None

    def _finish_or_report(
        self,
        backfill: BackfillRecord,
        claimed: dict[str, str],
        runs: dict[str, RunRecord],
        launched: list[str],
    ) -> BackfillPass:
        rows = [key for key, _ in backfill.claim_rows()]
        blocked = self._blocked(backfill, claimed, runs)
        statuses = [runs[claimed[k]].status if claimed.get(k) in runs else None for k in rows]
        finished = [s for s in statuses if s is not None and s.is_finished]
        failed = sum(1 for s in finished if s is not RunStatus.SUCCESS)
        skipped = sum(1 for k, s in zip(rows, statuses, strict=True) if k in blocked and s is None)
        total = len(statuses)
        noun = _noun(backfill)
        if len(finished) + skipped == total:
            message = (
                f"{total - failed - skipped} of {total} {noun} succeeded"
                + (f", {failed} failed or were canceled" if failed else "")
                + (f", {skipped} not launched as a run they wait for failed" if skipped else "")
            )
            self.instance.update_backfill(
                backfill.backfill_id, status=BackfillStatus.COMPLETED, status_message=message
            )
            return BackfillPass(backfill.backfill_id, launched, BackfillStatus.COMPLETED)
        running = sum(1 for s in statuses if s is not None and not s.is_finished)
        self._say(
            backfill,
            f"{len(finished)} of {total} {noun} done ({failed} failed), {running} running "
            f"or queued",
        )
        return BackfillPass(backfill.backfill_id, launched, backfill.status)

    def _cancel(self, backfill: BackfillRecord, runs: dict[str, RunRecord]) -> BackfillPass:
        """Cancel the backfill's unfinished runs; it is CANCELED once none is left."""
        for run in runs.values():
            if not run.status.is_finished:
                self.coordinator.cancel(
                    run.run_id, f"Run canceled: backfill {backfill.backfill_id} was canceled."
                )
        left = [
            r.run_id
            for r in self.instance.get_runs_by_tag(BACKFILL_TAG, backfill.backfill_id)
            if not r.status.is_finished
        ]
        if left:
            self._say(backfill, f"canceling: {len(left)} runs still stopping")
            return BackfillPass(backfill.backfill_id, [], backfill.status)
        done = sum(1 for r in runs.values() if r.status is RunStatus.SUCCESS)
        rows = backfill.claim_rows()
        self.instance.update_backfill(
            backfill.backfill_id,
            status=BackfillStatus.CANCELED,
            status_message=f"canceled after {done} of {len(rows)} {_noun(backfill)} succeeded",
        )
        return BackfillPass(backfill.backfill_id, [], BackfillStatus.CANCELED)

    def _say(self, backfill: BackfillRecord, message: str) -> None:
        """Record what the backfill waits for, writing only when it changes."""
        if backfill.status_message != message:
            self.instance.update_backfill(backfill.backfill_id, status_message=message)

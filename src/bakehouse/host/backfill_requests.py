"""Backfills for the API and the CLI: request one (checked, stored REQUESTED), cancel, progress.

The daemon's backfill loop (`daemon.backfills`) launches the runs. Everything here works from
the global asset graph (snapshots) and storage, so the API and the CLI share it.

How many partitions one run takes follows the selected assets' `BackfillPolicy` (`run_policy`):
one run for all of them when every asset is `single_run()`, else runs of at most the smallest
`multi_run(N)`, one partition per run when some asset has no policy.

Unpartitioned assets in the selection are materialized once each, as Dagster's asset backfills
do: those upstream of the partitioned ones (or unrelated to them) in one run before any partition
run, those downstream in one run after every partition run succeeded (`split_unpartitioned`).
Partitioned assets must share one partitions definition: the snapshot carries no partition
mappings, so a weekly asset over a daily one cannot be ordered per partition here; such a
selection is refused, naming the groups.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from bakehouse.errors import BackfillError, LaunchError, SelectionError
from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.host.launching import check_locations_load
from bakehouse.host.partition_keys import describe, partition_keys, unknown_key_message
from bakehouse.host.run_config import run_config_problem
from bakehouse.host.tag_limits import tag_problem
from bakehouse.protocol.snapshot import PartitionsSnap
from bakehouse.storage.records import (
    BACKFILL_TAG,
    UNPARTITIONED_AFTER_KEY,
    UNPARTITIONED_BEFORE_KEY,
    BackfillRecord,
    BackfillStatus,
    PartitionStatus,
    RunStatus,
)

if TYPE_CHECKING:
    from bakehouse.storage import Instance

Only = Literal["missing", "failed_and_missing"]
LAUNCHED_BY_TAG = "bakehouse/launched_by"
_ID_ALPHABET = string.ascii_lowercase


def new_backfill_id() -> str:
    """A short random id (eight lowercase letters), as readable in a terminal as Dagster's."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))


def backfill_partitions(graph: GlobalAssetGraph, keys: Sequence[str]) -> PartitionsSnap:
    """The one partitions definition the partitioned assets of `keys` share (unpartitioned ones
    aside); raises BackfillError when none is partitioned or they are partitioned differently."""
    by_def: dict[PartitionsSnap, list[str]] = {}
    for key in keys:
        snap = graph.assets[key].node.partitions
        if snap is not None:
            by_def.setdefault(snap, []).append(key)
    if not by_def:
        raise BackfillError(
            f"none of the selected assets ({', '.join(keys)}) is partitioned: a backfill "
            "materializes partitions; launch unpartitioned assets with bh launch --assets"
        )
    if len(by_def) > 1:
        groups = "; ".join(f"{', '.join(ks)}: {describe(s)}" for s, ks in by_def.items())
        raise BackfillError(
            "the selected assets do not share one partitions definition, so no partition key "
            f"fits them all ({groups}); bakehouse cannot yet order a backfill across different "
            "partitions definitions (the snapshot carries no partition mappings): backfill each "
            "group on its own, upstream first"
        )
    return next(iter(by_def))


def split_unpartitioned(
    graph: GlobalAssetGraph, keys: Sequence[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The unpartitioned assets of `keys` to materialize once (before, after) the partition runs.

    After: those downstream of a selected partitioned asset (they read all its partitions).
    Before: the others (upstream of the partitioned ones, or unrelated to them). One that is
    both downstream of a partitioned asset and upstream of another cannot run once at either
    end: BackfillError names it.
    """
    dag = graph.key_graph
    partitioned = [k for k in keys if graph.assets[k].node.partitions is not None]
    below = dag.downstream(partitioned) - set(partitioned)
    above = dag.upstream(partitioned) - set(partitioned)
    before: list[str] = []
    after: list[str] = []
    for key in dag.toposort([k for k in keys if graph.assets[k].node.partitions is None]):
        if key in below and key in above:
            raise BackfillError(
                f"{key} is not partitioned but sits between partitioned assets of the selection "
                "(downstream of some, upstream of others), so it cannot be materialized once "
                "before or after the partition runs; backfill the two sides on their own"
            )
        (after if key in below else before).append(key)
    return tuple(before), tuple(after)


def run_policy(graph: GlobalAssetGraph, keys: Sequence[str]) -> tuple[bool, int]:
    """(single_run, max_partitions_per_run) of a backfill of `keys`, from their policies.

    Dagster's rule: one run for the whole backfill only when every asset asks for it; else the
    strictest `multi_run(N)` wins, and an asset without a policy means one partition per run.
    """
    policies = [graph.assets[key].node.backfill_policy for key in keys]
    if any(p is None for p in policies):
        return False, 1
    limits = [p.max_partitions_per_run for p in policies if p is not None]
    bounded = [n for n in limits if n is not None]
    if not bounded:
        return True, 1
    return False, min(bounded)


def select_partition_keys(
    valid: list[str],
    *,
    partition_keys: Sequence[str] | None,
    partition_range: tuple[str, str] | None,
) -> list[str]:
    """The keys asked for, in definition order: a list, an inclusive range, or all of them."""
    if partition_keys is not None and partition_range is not None:
        raise BackfillError("give partition keys or a partition range, not both")
    if isinstance(partition_keys, str):
        raise BackfillError("partition_keys is a list of keys, not one string")
    index = {key: i for i, key in enumerate(valid)}
    if partition_range is not None:
        start, end = partition_range
        for key in (start, end):
            if key not in index:
                raise BackfillError(unknown_key_message(key, valid))
        if index[start] > index[end]:
            raise BackfillError(
                f"partition range {start}...{end} is empty: {start} comes after {end}"
            )
        return valid[index[start] : index[end] + 1]
    if partition_keys is not None:
        if not partition_keys:
            raise BackfillError("no partition keys given")
        for key in partition_keys:
            if key not in index:
                raise BackfillError(unknown_key_message(key, valid))
        return sorted(dict.fromkeys(partition_keys), key=index.__getitem__)
    return list(valid)


def _filter(instance: Instance, assets: Sequence[str], keys: list[str], only: Only) -> list[str]:
    """Keep the keys some selected asset has missing (or failed, with failed_and_missing)."""
    wanted: set[PartitionStatus | None] = {None}
    if only == "failed_and_missing":
        wanted.add(PartitionStatus.FAILED)
    elif only != "missing":
        raise BackfillError(f"only must be 'missing' or 'failed_and_missing', got {only!r}")
    statuses = [instance.get_partition_status(asset) for asset in assets]
    return [k for k in keys if any(status.get(k) in wanted for status in statuses)]


def request_backfill(
    instance: Instance,
    graph: GlobalAssetGraph,
    *,
    selection: str,
    partition_keys: Sequence[str] | None = None,
    partition_range: tuple[str, str] | None = None,
    only: Only | None = None,
    tags: Mapping[str, str] | None = None,
    run_config: Mapping[str, Any] | None = None,
    launched_by: str,
) -> BackfillRecord:
    """Store a REQUESTED backfill of `selection` for the partitions asked for (all if none).

    `partition_range` is inclusive; `only` keeps the partitions that some selected asset has
    missing (never materialized nor in progress) or, with "failed_and_missing", also failed.
    Unpartitioned assets of the selection are run once, before or after the partition runs
    (`split_unpartitioned`). Raises BackfillError for an unknown selection, no or differently
    partitioned assets, unknown keys, invalid `run_config` (as a launch checks it), tags over
    the limits (`tag_limits`), or nothing left to backfill.
    """
    problem = tag_problem(tags or {})
    if problem is not None:
        raise BackfillError(problem)
    try:
        assets = graph.select(selection)
    except SelectionError as exc:
        raise BackfillError(str(exc)) from None
    problem = run_config_problem(graph, assets, run_config or {})
    if problem is not None:
        raise BackfillError(problem)
    snap = backfill_partitions(graph, assets)
    once_before, once_after = split_unpartitioned(graph, assets)
    partitioned = [k for k in assets if k not in {*once_before, *once_after}]
    valid = _keys_of(instance, snap)
    keys = select_partition_keys(
        valid, partition_keys=partition_keys, partition_range=partition_range
    )
    reserved = {UNPARTITIONED_BEFORE_KEY, UNPARTITIONED_AFTER_KEY}.intersection(keys)
    if reserved and (once_before or once_after):
        # Its claim would be taken for the unpartitioned run's (see storage.records).
        raise BackfillError(
            f"partition key {sorted(reserved)[0]!r} is reserved for the run of the unpartitioned "
            "assets of a backfill; leave those assets out of the selection"
        )
    if only is not None:
        before = len(keys)
        keys = _filter(instance, partitioned, keys, only)
        if not keys:
            what = "missing" if only == "missing" else "failed or missing"
            raise BackfillError(f"nothing to backfill: none of the {before} partitions is {what}")
    if not keys:
        raise BackfillError(f"{describe(snap)} has no partitions yet")
    locations = sorted({graph.location_of(k) or "?" for k in assets})
    try:
        check_locations_load(graph, locations)
    except LaunchError as exc:
        raise BackfillError(str(exc)) from None
    single_run, per_run = run_policy(graph, partitioned)
    return instance.create_backfill(
        BackfillRecord(
            backfill_id=new_backfill_id(),
            partition_keys=tuple(keys),
            asset_selection=tuple(assets),
            selection_query=selection,
            location_name=locations[0] if len(locations) == 1 else None,
            single_run=single_run,
            max_partitions_per_run=per_run,
            unpartitioned_before=once_before,
            unpartitioned_after=once_after,
            tags={**(tags or {}), LAUNCHED_BY_TAG: launched_by},
            run_config=dict(run_config or {}),
        )
    )


def _keys_of(instance: Instance, snap: PartitionsSnap) -> list[str]:
    return partition_keys(snap, dynamic_keys=instance.get_dynamic_partitions)


def cancel_backfill(instance: Instance, backfill_id: str) -> BackfillRecord:
    """Ask the daemon to cancel a backfill: it stops launching runs and cancels the ones not
    finished, then marks it CANCELED. A finished backfill raises BackfillError; canceling one
    that is already CANCELING changes nothing."""
    backfill = instance.get_backfill(backfill_id)
    if backfill is None:
        raise BackfillError(f"there is no backfill '{backfill_id}'")
    if backfill.status.is_finished:
        raise BackfillError(
            f"backfill '{backfill_id}' is {backfill.status.value} already; nothing to cancel"
        )
    if backfill.status is BackfillStatus.CANCELING:
        return backfill
    return instance.update_backfill(backfill_id, status=BackfillStatus.CANCELING)


@dataclass(frozen=True, kw_only=True)
class PartitionProgress:
    """One row of a backfill: a partition, or the run of its unpartitioned assets before or
    after the partition runs (`assets` non-empty); its run (None until launched) and status."""

    partition_key: str  # for an unpartitioned row, its reserved claim key
    run_id: str | None
    run_status: RunStatus | None
    # The unpartitioned assets this row materializes once; () for a partition.
    assets: tuple[str, ...] = ()

    @property
    def once(self) -> Literal["before", "after"] | None:
        """For the run of unpartitioned assets, whether it runs before or after the partitions."""
        if not self.assets:
            return None
        return "before" if self.partition_key == UNPARTITIONED_BEFORE_KEY else "after"

    @property
    def label(self) -> str:
        """What the row is, for people: the partition key, or which unpartitioned assets."""
        if not self.assets:
            return self.partition_key
        return f"unpartitioned, {self.once} the partitions: {', '.join(self.assets)}"


@dataclass(frozen=True, kw_only=True)
class BackfillProgress:
    """How far a backfill got: each row's run (partitions, and any run of its unpartitioned
    assets), and counts by where they are."""

    partitions: list[PartitionProgress]
    total: int
    requested: int  # no run yet
    in_progress: int  # queued or running
    succeeded: int
    failed: int
    canceled: int


def backfill_progress(instance: Instance, backfill: BackfillRecord) -> BackfillProgress:
    """The runs of `backfill`'s rows and their statuses, from one read of its runs."""
    runs = {r.run_id: r for r in instance.get_runs_by_tag(BACKFILL_TAG, backfill.backfill_id)}
    partitions: list[PartitionProgress] = []
    counts = {"requested": 0, "in_progress": 0, "succeeded": 0, "failed": 0, "canceled": 0}
    for key, assets in backfill.claim_rows():
        run_id = backfill.partition_runs.get(key)
        run = runs.get(run_id) if run_id else None
        status = run.status if run is not None else None
        partitions.append(
            PartitionProgress(partition_key=key, run_id=run_id, run_status=status, assets=assets)
        )
        if status is None:
            counts["requested"] += 1
        elif status is RunStatus.SUCCESS:
            counts["succeeded"] += 1
        elif status is RunStatus.FAILURE:
            counts["failed"] += 1
        elif status is RunStatus.CANCELED:
            counts["canceled"] += 1
        else:
            counts["in_progress"] += 1
    return BackfillProgress(partitions=partitions, total=len(partitions), **counts)

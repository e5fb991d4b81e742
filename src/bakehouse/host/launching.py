"""The one launch service: every run (CLI, API, schedules, sensors, backfills, re-execution) is
planned and stored here.

`plan_run` resolves a launch against the global asset graph once: the asset keys, the asset
checks its run evaluates, the partition (one rule for every entry point) and the run config
(against the config schemas the snapshots carry). A launch that does not fit raises
`LaunchError` before anything is stored. `submit` stores the plan as a QUEUED run; the run
coordinator hands each run worker its part of the plan, and nothing is resolved again.
"""

from __future__ import annotations

import difflib
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bakehouse.errors import LaunchError, SelectionError
from bakehouse.graph.selection import select_keys
from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.host.module_errors import failed_module_of
from bakehouse.host.partition_keys import (
    DynamicKeys,
    describe,
    partition_keys,
    unknown_key_message,
)
from bakehouse.host.run_config import op_job_config_issue, run_config_problem
from bakehouse.host.tag_limits import tag_problem
from bakehouse.protocol.run_plan import RunPlan
from bakehouse.protocol.snapshot import JobSnap
from bakehouse.protocol.wire import LOCATIONS_TAG
from bakehouse.storage.records import EventRecord, EventType, RunRecord, RunStatus

if TYPE_CHECKING:
    from bakehouse.storage import Instance

__all__ = [
    "PARENT_RUN_TAG",
    "LaunchError",
    "LaunchTarget",
    "ReexecutionError",
    "check_locations_load",
    "check_partition",
    "plan_reexecution",
    "plan_run",
    "resolve_target",
    "run_plan_of",
    "submit",
]

PARENT_RUN_TAG = "bakehouse/parent_run_id"
"""A run tag naming the run that a re-execution executes again."""


def plan_run(
    graph: GlobalAssetGraph,
    *,
    dynamic_keys: DynamicKeys,
    selection: str | None = None,
    asset_keys: Sequence[str] | None = None,
    job_name: str | None = None,
    job_location: str | None = None,
    partition_key: str | None = None,
    partition_range: tuple[str, str] | None = None,
    run_config: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
    system_tags: Mapping[str, str] | None = None,
    run_id: str | None = None,
    check_keys: Sequence[str] | None = None,
) -> RunPlan:
    """Resolve a launch of a `selection`, explicit `asset_keys` or a job into a `RunPlan`;
    `check_keys` alone (``asset/key:check_name``) is a run of those asset checks only.

    Explicit keys narrow a job (a sensor's run request of part of a job). A job is looked up in
    `job_location` when given (a schedule's or sensor's own location), else in every location.
    `dynamic_keys` reads dynamic partitions (the instance's). `tags` are the caller's (bounded
    by `tag_limits`); `system_tags` are the ones bakehouse sets (who launched it, the schedule,
    the run key) and win over the caller's. Raises `LaunchError` naming what does not fit: an
    unknown asset or job, a partition the assets do not have, invalid config, oversized tags.
    """
    problem = tag_problem(tags or {})
    if problem is not None:
        raise LaunchError(problem)
    if check_keys is not None and not (selection or asset_keys or job_name):
        return _plan_checks(graph, check_keys, tags, system_tags, run_id)
    target = resolve_target(
        graph,
        selection=selection,
        asset_keys=asset_keys,
        job_name=job_name,
        job_location=job_location,
    )
    keys, job_location, job = list(target.keys), target.job_location, target.job
    check_failed_modules(graph, keys)
    check_partition(graph, keys, partition_key, partition_range, dynamic_keys=dynamic_keys)
    config = dict(run_config) if run_config else dict(job.run_config if job else {})
    # A job of ops has no assets: its location runs it; the Config classes of its top-level
    # ops are checked here, the rest of its config by the location when it runs.
    ops_job = job is not None and not job.asset_keys and not asset_keys
    if ops_job and job is not None:
        issue = op_job_config_issue(job.op_config_schemas, config)
        problem = issue.message if issue is not None else None
    else:
        problem = run_config_problem(graph, keys, config)
    if problem is not None:
        raise LaunchError(problem)
    checks = _check_keys(graph, keys, job)
    locations = sorted(
        {graph.location_of(k) or "?" for k in keys} | _check_locations(graph, checks)
    )
    if ops_job and job_location is not None:
        locations = [job_location]
    check_locations_load(graph, locations)
    return RunPlan(
        run_id=run_id or str(uuid.uuid4()),
        asset_keys=tuple(keys),
        check_keys=tuple(checks),
        job_name=job_name,
        selection_query=selection,
        partition_key=partition_key,
        partition_range=partition_range,
        run_config=config,
        tags={
            **(job.tags if job else {}),
            **(tags or {}),
            **(system_tags or {}),
            LOCATIONS_TAG: ",".join(locations),
        },
        locations=tuple(locations),
    )


def _plan_checks(
    graph: GlobalAssetGraph,
    check_keys: Sequence[str],
    tags: Mapping[str, str] | None,
    system_tags: Mapping[str, str] | None,
    run_id: str | None,
) -> RunPlan:
    """A run that evaluates `check_keys` and materializes nothing (a freshness sensor's)."""
    defined = {f"{key}:{p.check.name}" for key, placed in graph.checks.items() for p in placed}
    unknown = [c for c in check_keys if c not in defined]
    if unknown or not check_keys:
        raise LaunchError(
            f"no asset check {unknown[0]!r} in the loaded locations"
            if unknown
            else "a run of asset checks needs at least one check"
        )
    checks = sorted(dict.fromkeys(check_keys))
    locations = sorted(_check_locations(graph, checks))
    check_locations_load(graph, locations)
    return RunPlan(
        run_id=run_id or str(uuid.uuid4()),
        asset_keys=(),
        check_keys=tuple(checks),
        tags={**(tags or {}), **(system_tags or {}), LOCATIONS_TAG: ",".join(locations)},
        locations=tuple(locations),
    )


@dataclass(frozen=True)
class LaunchTarget:
    """What a launch runs: asset keys in dependency order, and the job (with the location
    defining it) when it is a job's run."""

    keys: tuple[str, ...]
    job: JobSnap | None = None
    job_location: str | None = None

    @property
    def is_ops_job(self) -> bool:
        """A job of ops (no assets): its location runs it and checks its config itself."""
        return self.job is not None and not self.job.asset_keys


def resolve_target(
    graph: GlobalAssetGraph,
    *,
    selection: str | None = None,
    asset_keys: Sequence[str] | None = None,
    job_name: str | None = None,
    job_location: str | None = None,
) -> LaunchTarget:
    """The assets (and job) a launch of a `selection`, explicit `asset_keys` or a job names;
    raises `LaunchError` for an unknown asset or job, or a selection that matches nothing."""
    job_location, job = _job(graph, job_name, job_location) if job_name else (None, None)
    try:
        if asset_keys:
            keys = _explicit(graph, asset_keys)
        elif job is not None:
            keys = list(job.asset_keys)
        else:
            _refuse_missing(graph, select_keys(selection or "", graph.key_graph))
            keys = graph.select(selection or "")
    except SelectionError as exc:
        raise LaunchError(str(exc)) from None
    return LaunchTarget(keys=tuple(keys), job=job, job_location=job_location)


def submit(instance: Instance, plan: RunPlan) -> RunRecord:
    """Store `plan` as a QUEUED run (the run queue starts it); returns the stored run."""
    run = RunRecord(
        run_id=plan.run_id,
        asset_selection=plan.asset_keys,
        check_selection=plan.check_keys,
        selection_query=plan.selection_query,
        job_name=plan.job_name,
        location_name=plan.locations[0] if len(plan.locations) == 1 else None,
        tags=dict(plan.tags),
        run_config=dict(plan.run_config),
        partition_key=plan.partition_key,
        partition_range_start=plan.partition_range[0] if plan.partition_range else None,
        partition_range_end=plan.partition_range[1] if plan.partition_range else None,
    )
    stored = instance.create_run(run)
    instance.store_event(
        EventRecord(
            run_id=run.run_id,
            event_type=EventType.RUN_QUEUED,
            timestamp=time.time(),
            message="Run queued.",
        )
    )
    return stored


def run_plan_of(run: RunRecord, asset_keys: Sequence[str], check_keys: Sequence[str]) -> RunPlan:
    """The part of stored `run` that executes `asset_keys` and `check_keys` (one run worker's)."""
    return RunPlan(
        run_id=run.run_id,
        asset_keys=tuple(asset_keys),
        check_keys=tuple(check_keys),
        job_name=run.job_name,
        selection_query=run.selection_query,
        partition_key=run.partition_key,
        partition_range=run.partition_range,
        run_config=dict(run.run_config),
        tags=dict(run.tags),
        locations=tuple(filter(None, run.tags.get(LOCATIONS_TAG, "").split(","))),
    )


def check_locations_load(graph: GlobalAssetGraph, locations: Sequence[str]) -> None:
    """Refuse a run in a location that serves its last good definitions because its files no
    longer load: a run worker imports the files anew, so the run could only fail, and the
    assets it never ran would show as failed. (The last good code server does hold the old
    modules, but runs never execute in it; a worker forked from it would run code that is on
    no disk, which no log or traceback could point at.)"""
    for name in locations:
        why = graph.stale.get(name)
        if why is not None:
            first = why.strip().splitlines()[0] if why.strip() else "its latest load failed"
            raise LaunchError(
                f"code location '{name}' cannot run now: it serves its last good definitions "
                f"because its latest reload failed ({first}); a run would import the current "
                "files and fail. Fix them (bh locations list shows the error), reload, and "
                "launch again"
            )


def check_partition(
    graph: GlobalAssetGraph,
    keys: Sequence[str],
    partition_key: str | None,
    partition_range: tuple[str, str] | None = None,
    *,
    dynamic_keys: DynamicKeys,
) -> None:
    """Refuse a partition (key or range) that does not fit the partitioned assets of `keys`:
    one for assets none of which is partitioned, none for partitioned assets, partitioned
    assets that do not share one definition, or a key the definition does not have now."""
    if partition_key is not None and partition_range is not None:
        raise LaunchError("give a partition key or a partition range, not both")
    asked = partition_key if partition_range is None else "...".join(partition_range)
    partitioned = [k for k in keys if graph.assets[k].node.partitions is not None]
    if not partitioned:
        if asked is not None:
            raise LaunchError(f"partition {asked!r}: no selected asset is partitioned")
        return
    snaps = {graph.assets[k].node.partitions for k in partitioned}
    if len(snaps) > 1:
        listed = "; ".join(f"{k}: {describe(graph.assets[k].node.partitions)}" for k in partitioned)  # type: ignore[arg-type]
        raise LaunchError(
            "the partitioned assets of one run must share one partitions definition, and these "
            f"differ ({listed}); launch them in separate runs"
        )
    if asked is None:
        named = ", ".join(partitioned[:5]) + (" and others" if len(partitioned) > 5 else "")
        raise LaunchError(
            f"{named} {'is' if len(partitioned) == 1 else 'are'} partitioned: give a partition "
            "key (bh launch --partition KEY, partition_key in the API), or backfill a range"
        )
    (snap,) = snaps
    assert snap is not None
    valid = partition_keys(snap, dynamic_keys=dynamic_keys)
    position = {key: i for i, key in enumerate(valid)}
    for key in (partition_key,) if partition_range is None else partition_range:
        if key not in position:
            raise LaunchError(unknown_key_message(str(key), valid))
    if partition_range is not None and position[partition_range[0]] > position[partition_range[1]]:
        start, end = partition_range
        raise LaunchError(f"partition range {start}...{end} is empty: {start} comes after {end}")


def check_failed_modules(graph: GlobalAssetGraph, keys: Sequence[str]) -> None:
    """Refuse a run of an asset that needs an asset missing because the module defining it
    failed to load (its location is LOADED_WITH_ERRORS): the upstream's IO manager and
    partitions went with the module, so its stored value could not be read as it was written.
    Assets that need nothing from a failed module run as usual."""
    for key in keys:
        placed = graph.assets.get(key)
        for dep in placed.node.deps if placed is not None else ():
            where = failed_module_of(graph.assets[dep].node if dep in graph.assets else None)
            if where is not None and graph.location_of(dep) is None:
                raise LaunchError(
                    f"asset {key!r} needs {dep!r}, which is defined in a module that failed to "
                    f"load: {where}. Fix that module and reload, then launch again"
                )


def _refuse_missing(graph: GlobalAssetGraph, keys: Iterable[str]) -> None:
    """Refuse, naming the module, a launch that selects an asset missing because the module
    defining it failed to load: it cannot run, and leaving it out silently would let "materialize
    all" look done."""
    for key in keys:
        placed = graph.assets.get(key)
        where = failed_module_of(placed.node if placed is not None else None)
        if where is not None and graph.location_of(key) is None:
            raise SelectionError(
                f"asset {key!r} is defined in a module that failed to load: {where}. Fix that "
                "module and reload, then launch again"
            )


def _explicit(graph: GlobalAssetGraph, asset_keys: Sequence[str]) -> list[str]:
    """Explicit keys in dependency order; an unknown one is refused as a selection of it is,
    one missing because its module failed to load with that module's file:line."""
    _refuse_missing(graph, asset_keys)
    for key in asset_keys:
        if key not in graph.assets:
            close = difflib.get_close_matches(key, list(graph.assets), n=3)
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise SelectionError(f"no asset with key {key!r} in selection {key!r}.{hint}")
    runnable = [k for k in asset_keys if not graph.assets[k].node.is_external]
    if not runnable:
        raise SelectionError(f"{list(asset_keys)} are external assets, which bakehouse does not "
                             "materialize")  # fmt: skip
    return graph.key_graph.toposort(runnable)


def _job(graph: GlobalAssetGraph, name: str, location: str | None) -> tuple[str, JobSnap]:
    """The job called `name` (in `location`, if given) and the location defining it."""
    if location is None:
        try:
            return graph.find_job(name)
        except SelectionError as exc:
            raise LaunchError(str(exc)) from None
    snap = graph.locations.get(location)
    for job in snap.jobs if snap is not None else ():
        if job.name == name:
            return location, job
    raise LaunchError(f"no job named {name!r} in location '{location}'")


def _check_locations(graph: GlobalAssetGraph, checks: Sequence[str]) -> set[str]:
    wanted = set(checks)
    return {
        placed.location
        for key, placed_checks in graph.checks.items()
        for placed in placed_checks
        if f"{key}:{placed.check.name}" in wanted
    }


def _check_keys(graph: GlobalAssetGraph, keys: Sequence[str], job: JobSnap | None) -> list[str]:
    """The checks a run of `keys` evaluates: a job's selection says (those of its assets left
    out of a partial run stay out); otherwise every check of the run's assets defined in the
    asset's own location."""
    if job is not None:
        ran, job_keys = set(keys), set(job.asset_keys)
        return [
            c for c in job.check_keys if (a := c.rpartition(":")[0]) in ran or a not in job_keys
        ]
    return sorted(
        f"{key}:{placed.check.name}"
        for key in keys
        for placed in graph.checks.get(key, ())
        if placed.location == graph.location_of(key)
    )


def plan_reexecution(
    graph: GlobalAssetGraph,
    instance: Instance,
    parent: RunRecord,
    *,
    from_failure: bool = False,
    system_tags: Mapping[str, str] | None = None,
) -> RunPlan:
    """The plan of a run that executes `parent` again: its assets (with `from_failure`, those
    it did not materialize), of its partition, with its config and its own (not bakehouse's)
    tags (accepted at its launch, so not checked again), plus `system_tags` (who launched it).
    Raises `LaunchError` when the parent did not fail (`from_failure`), when
    nothing is left, or when the graph no longer fits it."""
    keys = list(parent.asset_selection)
    if from_failure:
        if parent.status is not RunStatus.FAILURE:
            raise ReexecutionError(f"run '{parent.run_id}' did not fail ({parent.status.value})")
        done = {
            e.asset_key
            for e in instance.get_events(
                parent.run_id, event_types=[EventType.ASSET_MATERIALIZATION]
            )
        }
        keys = [k for k in keys if k not in done]
    if not keys:
        raise ReexecutionError(f"nothing left to re-execute in run '{parent.run_id}'")
    own = {k: v for k, v in parent.tags.items() if not k.startswith("bakehouse/")}
    return plan_run(
        graph,
        dynamic_keys=instance.get_dynamic_partitions,
        asset_keys=keys,
        job_name=parent.job_name,
        partition_key=parent.partition_key,
        partition_range=parent.partition_range,
        run_config=parent.run_config,
        system_tags={**own, **(system_tags or {}), PARENT_RUN_TAG: parent.run_id},
    )


class ReexecutionError(LaunchError):
    """Raised when a run cannot be re-executed as asked (it did not fail, nothing is left)."""

"""`Definitions`: everything one code location holds, validated as a whole."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bakehouse.authoring.asset_checks import AssetChecksDefinition
from bakehouse.authoring.asset_graph import AssetGraph
from bakehouse.authoring.assets import DEFAULT_IO_MANAGER_KEY, AssetsDefinition, AssetSpec
from bakehouse.authoring.check_spec import AssetCheckKey
from bakehouse.authoring.executors import ExecutorDefinition
from bakehouse.authoring.graphs import JobDefinition
from bakehouse.authoring.jobs import AssetJobDefinition
from bakehouse.authoring.source import caller_source
from bakehouse.errors import (
    DefinitionError,
    DuplicateKeyError,
    MissingResourceError,
    SelectionError,
    SourceLocation,
)
from bakehouse.graph.keys import AssetKey, CoercibleToAssetKey, coerce_key

IMPLICIT_ASSET_JOB_NAME = "__ASSET_JOB"

AnyJob = AssetJobDefinition | JobDefinition
"""A job over assets (`define_asset_job`) or over ops (`@job`)."""


def _named_source(obj: object) -> SourceLocation | None:
    source = getattr(obj, "source", None)
    return source if isinstance(source, SourceLocation) else None


class Definitions:
    """The assets, resources, jobs, schedules and sensors of one code location.

    A code location has exactly one. Build it directly, merge several with `Definitions.merge`,
    or let `load_from_defs_folder` collect it from the project's ``defs/`` package.
    """

    def __init__(
        self,
        assets: Iterable[AssetsDefinition | AssetSpec] | None = None,
        *,
        resources: Mapping[str, Any] | None = None,
        jobs: Iterable[AnyJob] | None = None,
        schedules: Iterable[Any] | None = None,
        sensors: Iterable[Any] | None = None,
        executor: ExecutorDefinition | None = None,
        asset_checks: Iterable[AssetChecksDefinition] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        self.source = caller_source()
        self.assets: list[AssetsDefinition | AssetSpec] = _checked_list(
            assets, (AssetsDefinition, AssetSpec), "assets", self.source
        )
        self.resources: dict[str, Any] = dict(resources or {})
        self.jobs: list[AnyJob] = _checked_list(
            jobs, (AssetJobDefinition, JobDefinition), "jobs", self.source
        )
        self.schedules: list[Any] = list(schedules or ())
        self.sensors: list[Any] = list(sensors or ())
        self.asset_checks: list[AssetChecksDefinition] = _checked_list(
            asset_checks, (AssetChecksDefinition,), "asset_checks", self.source
        )
        self.executor = executor
        self.metadata = dict(metadata or {})
        self._asset_graph: AssetGraph | None = None

    @staticmethod
    def merge(*defs: Definitions) -> Definitions:
        """One `Definitions` holding everything in `defs`.

        Two different resources under one key, or two different executors, are errors.
        """
        merged = Definitions()
        merged.source = defs[0].source if defs else merged.source
        resource_sources: dict[str, SourceLocation | None] = {}  # to name both sides of a clash
        for item in defs:
            if not isinstance(item, Definitions):
                raise DefinitionError(f"Definitions.merge takes Definitions, got {item!r}")
            merged.assets.extend(item.assets)
            merged.jobs.extend(item.jobs)
            merged.schedules.extend(item.schedules)
            merged.sensors.extend(item.sensors)
            merged.asset_checks.extend(item.asset_checks)
            merged.metadata.update(item.metadata)
            for key, resource in item.resources.items():
                if key in merged.resources and merged.resources[key] is not resource:
                    raise DuplicateKeyError("resource", key, resource_sources[key], item.source)
                merged.resources[key] = resource
                resource_sources.setdefault(key, item.source)
            if item.executor is not None:
                if merged.executor is not None and merged.executor != item.executor:
                    raise DefinitionError(
                        f"two different executors: {merged.executor.name} and {item.executor.name}",
                        source=item.source,
                    )
                merged.executor = item.executor
        merged.assets = _dedupe(merged.assets)
        merged.jobs = _dedupe(merged.jobs)
        merged.schedules = _dedupe(merged.schedules)
        merged.sensors = _dedupe(merged.sensors)
        merged.asset_checks = _dedupe(merged.asset_checks)
        return merged

    def resolve_asset_graph(self) -> AssetGraph:
        """The validated asset graph (built once)."""
        if self._asset_graph is None:
            self._asset_graph = AssetGraph(self.assets, self.asset_checks)
        return self._asset_graph

    def validate(self) -> None:
        """Check everything a run would trip over later; raise a `DefinitionError` naming it."""
        graph = self.resolve_asset_graph()
        provided = set(self.resources) | {DEFAULT_IO_MANAGER_KEY}
        for assets_def in graph.assets_defs:
            needed = set(assets_def.required_resource_keys)
            needed |= {s.io_manager_key for s in assets_def.specs}
            for key in sorted(needed - provided):
                raise MissingResourceError(
                    key, f"asset '{assets_def.op_name}'", assets_def.source, sorted(provided)
                )
        self._validate_checks(graph, provided)
        # Loaded only once some asset is partitioned: plain projects never import partitions.
        if "bakehouse.authoring.partitions" in sys.modules:
            from bakehouse.authoring.partition_mappings import check_partition_mappings

            check_partition_mappings(graph.specs)
        seen_jobs: dict[str, AnyJob] = {}
        for job in self.all_jobs():
            if job.name in seen_jobs:
                raise DuplicateKeyError("job", job.name, seen_jobs[job.name].source, job.source)
            seen_jobs[job.name] = job
            if isinstance(job, JobDefinition):
                self._validate_op_job(job)
            else:
                self.resolve_job_keys(job)
        for kind, items in (("schedule", self.schedules), ("sensor", self.sensors)):
            names: dict[str, Any] = {}
            for item in items:
                name = getattr(item, "name", None)
                if name in names:
                    raise DuplicateKeyError(
                        kind, str(name), _named_source(names[name]), _named_source(item)
                    )
                names[str(name)] = item
        self._validate_targets(seen_jobs)
        for schedule in self.schedules:
            # A schedule on a partitioned job picks its partition at each tick; it learns the
            # job's partitions here, where the job's assets are resolved.
            resolve = getattr(schedule, "resolve_partitions", None)
            target = seen_jobs.get(str(getattr(schedule, "job_name", None)))
            if callable(resolve) and target is not None:
                resolve(self.resolve_job_partitions_def(target), target)

    def _validate_checks(self, graph: AssetGraph, provided: set[str]) -> None:
        step_sources = {a.op_name: a.source for a in graph.assets_defs}
        for check_def in graph.checks_defs:
            what = f"asset check '{', '.join(str(k) for k in check_def.check_keys)}'"
            for key in sorted(set(check_def.required_resource_keys) - provided):
                raise MissingResourceError(key, what, check_def.source, sorted(provided))
            if check_def.op_name in step_sources:
                # A check runs as a step named after its asset and itself; an asset function
                # of that name would make the run's steps ambiguous.
                raise DuplicateKeyError(
                    "step", check_def.op_name, step_sources[check_def.op_name], check_def.source
                )
            # Two multi-asset checks of one name would be two steps of one name too.
            step_sources[check_def.op_name] = check_def.source

    def _validate_op_job(self, job: JobDefinition) -> None:
        provided = set(job.resources_with(self.resources))
        for op_def in job.graph.ops:
            for key in sorted(op_def.required_resource_keys - provided):
                raise MissingResourceError(
                    key, f"op '{op_def.name}' of job '{job.name}'", op_def.source, sorted(provided)
                )

    def all_jobs(self) -> list[AnyJob]:
        """The jobs given, plus the jobs schedules and sensors name by object (as Dagster adds
        them)."""
        jobs = list(self.jobs)
        seen = {id(j) for j in jobs}
        for item in [*self.schedules, *self.sensors]:
            for job in [getattr(item, "job", None), *getattr(item, "jobs", [])]:
                if isinstance(job, (AssetJobDefinition, JobDefinition)) and id(job) not in seen:
                    seen.add(id(job))
                    jobs.append(job)
        return jobs

    def _validate_targets(self, jobs: dict[str, AnyJob]) -> None:
        known = ", ".join(sorted(jobs)) or "none"
        for item in [*self.schedules, *self.sensors]:
            kind = "schedule" if item in self.schedules else "sensor"
            names = getattr(item, "job_names", None) or [getattr(item, "job_name", None)]
            for job_name in names:
                if job_name is not None and job_name not in jobs:
                    raise DefinitionError(
                        f"{kind} '{item.name}' targets job '{job_name}', which does not exist "
                        f"(jobs: {known})",
                        source=_named_source(item),
                    )

    def resolve_job_keys(self, job: AnyJob) -> list[AssetKey]:
        """The executable keys `job` selects, in dependency order (none for a job of ops);
        errors name the job."""
        if isinstance(job, JobDefinition):
            return []
        graph = self.resolve_asset_graph()
        try:
            chosen = job.selection.resolve(graph.key_graph)
        except SelectionError as exc:
            raise DefinitionError(f"job '{job.name}': {exc}", source=job.source) from None
        keys = [AssetKey.from_user_string(k) for k in chosen]
        runnable = [k for k in keys if k in graph.assets_def_by_key]
        if not runnable and not self.resolve_job_check_keys(job):
            raise DefinitionError(
                f"job '{job.name}' selects no asset that can be materialized and no asset check "
                f"(selection: {job.selection.description})",
                source=job.source,
            )
        partitioned = {
            k: graph.specs[k].partitions_def for k in runnable if graph.specs[k].partitions_def
        }
        wanted = {job.partitions_def} if job.partitions_def is not None else set()
        if len(set(partitioned.values()) | wanted) > 1:
            listed = ", ".join(f"{k.to_user_string()} ({p})" for k, p in partitioned.items())
            expected = f" the job's {job.partitions_def};" if job.partitions_def else ""
            raise DefinitionError(
                f"job '{job.name}' selects assets partitioned differently:{expected} {listed}. "
                "A run materializes one partition, so a job's partitioned assets share one "
                "partitions definition",
                source=job.source,
            )
        return graph.toposorted_keys(runnable)

    def resolve_job_check_keys(self, job: AnyJob) -> list[AssetCheckKey]:
        """The checks `job` evaluates: those of its assets, unless its selection says otherwise
        (`AssetSelection.checks(...)`, `.without_checks()`)."""
        if isinstance(job, JobDefinition):
            return []
        graph = self.resolve_asset_graph()
        try:
            return sorted(job.selection.resolve_checks(graph.key_graph, graph.check_specs))
        except SelectionError as exc:
            raise DefinitionError(f"job '{job.name}': {exc}", source=job.source) from None

    def resolve_job_partitions_def(self, job: AnyJob) -> Any:
        """The partitions a run of `job` picks one of: the job's own, else its assets'."""
        if job.partitions_def is not None:
            return job.partitions_def
        graph = self.resolve_asset_graph()
        found = [graph.specs[k].partitions_def for k in self.resolve_job_keys(job)]
        return next((p for p in found if p is not None), None)

    def get_schedule_def(self, name: str) -> Any:
        """The schedule called `name`."""
        return _named(self.schedules, name, "schedule")

    def get_sensor_def(self, name: str) -> Any:
        """The sensor called `name`."""
        return _named(self.sensors, name, "sensor")

    def get_assets_def(self, key: CoercibleToAssetKey) -> AssetsDefinition:
        """The definition that materializes `key`."""
        asset_key = coerce_key(key)
        found = self.resolve_asset_graph().assets_def_by_key.get(asset_key)
        if found is None:
            raise DefinitionError(f"no asset with key '{asset_key}' can be materialized here")
        return found

    def get_job_def(self, name: str) -> AnyJob:
        """The job called `name`; its ``execute_in_process()`` runs it with these definitions."""
        jobs = self.all_jobs()
        for job in jobs:
            if job.name == name:
                job.bind(self)
                return job
        known = ", ".join(j.name for j in jobs) or "none"
        raise DefinitionError(f"no job named '{name}' (jobs: {known})")

    def resolve_all_job_defs(self) -> list[ResolvedAssetJob | JobDefinition]:
        """Every job, bound to these definitions."""
        return [self._resolved(job) for job in self.all_jobs()]

    def _resolved(self, job: AnyJob) -> ResolvedAssetJob | JobDefinition:
        if isinstance(job, JobDefinition):
            job.bind(self)
            return job
        self.resolve_job_keys(job)  # refuse a job that selects nothing now, not at run time
        return ResolvedAssetJob(self, job)

    def get_implicit_global_asset_job_def(self) -> ResolvedAssetJob:
        """A job of every asset that can be materialized here (Dagster's ``__ASSET_JOB``)."""
        from bakehouse.authoring.asset_selection import AssetSelection

        return ResolvedAssetJob(
            self, AssetJobDefinition(name=IMPLICIT_ASSET_JOB_NAME, selection=AssetSelection.all())
        )

    def resolve_job_def(self, name: str) -> ResolvedAssetJob | JobDefinition:
        """The job called `name`, bound to these definitions so it can run in process."""
        return self._resolved(self.get_job_def(name))

    @staticmethod
    def validate_loadable(defs: Definitions) -> None:
        """Raise the `DefinitionError` a code location would fail to load with, if any."""
        defs.validate()

    def __repr__(self) -> str:
        return (
            f"<Definitions assets={len(self.assets)} resources={len(self.resources)} "
            f"jobs={len(self.jobs)} schedules={len(self.schedules)} sensors={len(self.sensors)}>"
        )


class ResolvedAssetJob:
    """A job bound to the `Definitions` that hold its assets and resources."""

    def __init__(self, defs: Definitions, job: AssetJobDefinition) -> None:
        self.defs = defs
        self.job = job
        self.name = job.name

    def execute_in_process(
        self,
        run_config: Mapping[str, Any] | Any | None = None,
        *,
        resources: Mapping[str, Any] | None = None,
        instance: Any = None,
        tags: Mapping[str, str] | None = None,
        raise_on_error: bool = True,
        partition_key: str | None = None,
    ) -> Any:
        """Run the job's assets in this process, as `bakehouse.materialize` does."""
        # The one call from the authoring API into execution, made only when a user runs a job
        # by hand; loading definitions never takes this path.
        from bakehouse.execution.materialize import execute_in_process

        keys = self.defs.resolve_job_keys(self.job)
        return execute_in_process(
            [*self.defs.assets, *self.defs.asset_checks],
            resources={**self.defs.resources, **(resources or {})},
            run_config=run_config if run_config is not None else self.job.config,
            instance=instance,
            selection=[k.to_user_string() for k in keys],
            tags={**self.job.tags, **(tags or {})},
            raise_on_error=raise_on_error,
            partition_key=partition_key,
            job_name=self.job.name,
            hooks=self.job.hooks,
        )


def _named(items: list[Any], name: str, kind: str) -> Any:
    for item in items:
        if getattr(item, "name", None) == name:
            return item
    known = ", ".join(sorted(str(getattr(i, "name", "?")) for i in items)) or "none"
    raise DefinitionError(f"no {kind} named '{name}' ({kind}s: {known})")


def _checked_list(
    items: Iterable[Any] | None,
    types: tuple[type, ...],
    field_name: str,
    source: SourceLocation | None,
) -> list[Any]:
    result: list[Any] = []
    for item in items or ():
        if not isinstance(item, types):
            hint = ""
            if callable(item) and field_name == "assets":
                hint = " (did you forget the @asset decorator?)"
            raise DefinitionError(
                f"Definitions({field_name}=...) got {item!r}, which is not "
                f"{' or '.join(t.__name__ for t in types)}{hint}",
                source=source,
            )
        result.append(item)
    return result


def _dedupe(items: Sequence[Any]) -> list[Any]:
    # The same object reached through two modules is one definition, not a duplicate.
    seen: set[int] = set()
    kept = []
    for item in items:
        if id(item) not in seen:
            seen.add(id(item))
            kept.append(item)
    return kept

"""Schedules: run a job on a cron schedule (`ScheduleDefinition`, `@schedule`)."""

from __future__ import annotations

import datetime as dt
import inspect
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from bakehouse.authoring.jobs import AssetJobDefinition, job_for_target
from bakehouse.authoring.loading import register_definition_kind
from bakehouse.authoring.run_config import is_run_config_object, plain_run_config
from bakehouse.authoring.run_request import DefaultScheduleStatus, RunRequest, SkipReason
from bakehouse.authoring.source import caller_source, source_of_function
from bakehouse.errors import DefinitionError, SourceLocation

if TYPE_CHECKING:
    from bakehouse.authoring.graphs import JobDefinition


def validate_cron(cron_schedule: str, where: str, source: SourceLocation | None) -> str:
    """`cron_schedule` if valid, else a `DefinitionError` naming `where` and the expression."""
    from croniter import croniter

    if not isinstance(cron_schedule, str) or not croniter.is_valid(cron_schedule):
        raise DefinitionError(
            f"{where}: invalid cron_schedule {cron_schedule!r}; use five fields like "
            "'0 * * * *' (minute hour day-of-month month day-of-week) or @hourly/@daily",
            source=source,
        )
    return cron_schedule


def validate_timezone(timezone: str | None, where: str, source: SourceLocation | None) -> None:
    """Refuse an unknown IANA time zone name."""
    if timezone is None:
        return
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise DefinitionError(
            f"{where}: unknown execution_timezone {timezone!r}; use an IANA name like "
            "'Europe/Paris'",
            source=source,
        ) from None


class ScheduleEvaluationContext:
    """What a schedule function receives: the tick's scheduled time and a logger."""

    def __init__(
        self,
        *,
        scheduled_execution_time: dt.datetime | None,
        log: logging.Logger | None = None,
        resources: Mapping[str, Any] | None = None,
    ) -> None:
        self.scheduled_execution_time = scheduled_execution_time
        # Lines go to the code server's stderr, which the host keeps.
        self.log = log or logging.getLogger("bakehouse.schedule")
        self.resources = dict(resources or {})
        # Only a test gives one (`build_schedule_context(instance=...)`).
        self.instance: Any = None


def build_schedule_context(
    instance: Any = None,
    scheduled_execution_time: dt.datetime | None = None,
    resources: Mapping[str, Any] | None = None,
) -> ScheduleEvaluationContext:
    """A context for calling a schedule function in a test (Dagster's argument order)."""
    context = ScheduleEvaluationContext(
        scheduled_execution_time=scheduled_execution_time, resources=resources
    )
    context.instance = instance
    return context


ScheduleFunction = Callable[..., Any]


@register_definition_kind("schedules")
class ScheduleDefinition:
    """Runs `job` at each tick of `cron_schedule` (in `execution_timezone`, UTC by default).

    With an evaluation function (`@schedule`), each tick may return run requests, run config
    or a `SkipReason`; without one, each tick runs the job with `run_config`.
    """

    def __init__(
        self,
        name: str | None = None,
        *,
        cron_schedule: str,
        job: AssetJobDefinition | JobDefinition | None = None,
        job_name: str | None = None,
        run_config: Mapping[str, Any] | Any | None = None,
        tags: Mapping[str, str] | None = None,
        execution_timezone: str | None = None,
        description: str | None = None,
        default_status: DefaultScheduleStatus = DefaultScheduleStatus.STOPPED,
        execution_fn: ScheduleFunction | None = None,
        target: Any = None,
    ) -> None:
        source = source_of_function(execution_fn) if execution_fn else caller_source()
        self.source = source
        if target is not None:
            job = _target_job(target, name, job, job_name, source)
        if job is None and job_name is None:
            raise DefinitionError(
                "a schedule needs target= (a job or assets), or job= (or job_name=)",
                source=source,
            )
        self.job = job
        self.job_name = job.name if job is not None else job_name
        self.name = name or f"{self.job_name}_schedule"
        where = f"schedule '{self.name}'"
        self.cron_schedule = validate_cron(cron_schedule, where, source)
        validate_timezone(execution_timezone, where, source)
        self.execution_timezone = execution_timezone
        self.run_config = plain_run_config(run_config)
        self.tags = dict(tags or {})
        self.description = description
        self.default_status = DefaultScheduleStatus(default_status)
        self.execution_fn = execution_fn
        # The partitions of the job, once `Definitions` resolved it; a tick without its own
        # function then runs the newest partition.
        self.partitions_def: Any = None

    def resolve_partitions(self, partitions_def: Any, job: AssetJobDefinition) -> None:
        """Learn the partitions of the job this schedule runs (`Definitions` calls it)."""
        if partitions_def is not None and self.execution_fn is None:
            from bakehouse.authoring.partitioned_schedules import check_schedulable

            check_schedulable(partitions_def, f"schedule '{self.name}'", self.source)
        self.partitions_def = partitions_def

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the schedule's function directly, as Dagster's testing docs do, and return what
        it returned (run config, `RunRequest`s, a `SkipReason`)."""
        if self.execution_fn is None:
            raise DefinitionError(
                f"schedule '{self.name}' has no function to call; evaluate(time) gives its runs",
                source=self.source,
            )
        params = list(inspect.signature(self.execution_fn).parameters)
        if not params:
            return self.execution_fn()
        if not args and not kwargs:
            args = (build_schedule_context(),)
        resources = getattr(args[0], "resources", None) or {} if args else {}
        named = {p: resources[p] for p in params[len(args) :] if p in resources and p not in kwargs}
        return self.execution_fn(*args, **kwargs, **named)

    def evaluate(
        self, scheduled_time: dt.datetime, resources: Mapping[str, Any] | None = None
    ) -> list[RunRequest] | SkipReason:
        """What this schedule asks for at the tick `scheduled_time`."""
        if self.execution_fn is None:
            if self.partitions_def is not None:
                from bakehouse.authoring.partitioned_schedules import partition_requests

                return partition_requests(
                    self.partitions_def, scheduled_time, run_config=self.run_config,
                    tags=self.tags,
                )  # fmt: skip
            return [RunRequest(run_config=self.run_config, tags=self.tags)]
        context = ScheduleEvaluationContext(
            scheduled_execution_time=scheduled_time, resources=resources
        )
        result = self(context)
        items = list(result) if inspect.isgenerator(result) else result
        if isinstance(items, SkipReason):
            return items
        if items is None:
            return SkipReason("the schedule function returned nothing")
        if isinstance(items, RunRequest):
            return [items]
        if isinstance(items, Mapping) or is_run_config_object(items):
            # Run config (a dict or a RunConfig), as Dagster's schedules may return.
            return [RunRequest(run_config=items, tags=self.tags)]
        if isinstance(items, list):
            skips = [i for i in items if isinstance(i, SkipReason)]
            requests = [i for i in items if isinstance(i, RunRequest)]
            if skips and not requests:
                return skips[0]
            if len(requests) + len(skips) == len(items):
                return requests
        raise DefinitionError(
            f"schedule '{self.name}' returned {type(items).__name__}; return a RunRequest, a "
            "list of them, run config (a dict or RunConfig) or a SkipReason",
            source=self.source,
        )

    def __repr__(self) -> str:
        return f"<ScheduleDefinition {self.name} {self.cron_schedule!r} -> {self.job_name}>"


def _target_job(
    target: Any,
    name: str | None,
    job: AssetJobDefinition | JobDefinition | None,
    job_name: str | None,
    source: SourceLocation | None,
) -> AssetJobDefinition:
    """The job of a schedule given ``target=`` (Dagster's spelling of job= and selections)."""
    if job is not None or job_name is not None:
        raise DefinitionError("give a schedule target= or job=, not both", source=source)
    if name is None and not isinstance(target, AssetJobDefinition):
        raise DefinitionError(
            "a schedule that targets assets needs a name= (it names the job run for them)",
            source=source,
        )
    return job_for_target(target, name or target.name, source)


def schedule(
    cron_schedule: str,
    *,
    job: AssetJobDefinition | JobDefinition | None = None,
    job_name: str | None = None,
    name: str | None = None,
    execution_timezone: str | None = None,
    description: str | None = None,
    default_status: DefaultScheduleStatus = DefaultScheduleStatus.STOPPED,
    tags: Mapping[str, str] | None = None,
    target: Any = None,
) -> Callable[[ScheduleFunction], ScheduleDefinition]:
    """Decorate a function of the tick's context that returns run requests, config or a skip."""

    def build(fn: ScheduleFunction) -> ScheduleDefinition:
        return ScheduleDefinition(
            name or fn.__name__,
            target=target,
            cron_schedule=cron_schedule,
            job=job,
            job_name=job_name,
            execution_timezone=execution_timezone,
            description=description or inspect.getdoc(fn),
            default_status=default_status,
            tags=tags,
            execution_fn=fn,
        )

    return build

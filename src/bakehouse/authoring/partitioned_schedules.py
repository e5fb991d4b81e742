"""Schedules on partitioned jobs: each tick asks for the newest partition complete at its time.

`build_schedule_from_partitioned_job` follows Dagster: the cadence (cron and time zone) comes
from the job's time partitions, optionally moved to another minute, hour or day; each tick runs
the last partition complete at the tick (for a daily job ticking at 00:05 on the 2nd, the 1st);
a statically partitioned job needs a cron schedule and runs every key at each tick; a
multi-partitioned job with one time dimension runs every key of the newest time partition.
A plain `ScheduleDefinition` on a partitioned job picks its partition by the same rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from bakehouse.authoring.jobs import AssetJobDefinition
from bakehouse.authoring.run_request import DefaultScheduleStatus, RunRequest, SkipReason
from bakehouse.authoring.schedules import ScheduleDefinition
from bakehouse.authoring.source import caller_source
from bakehouse.errors import DefinitionError, SourceLocation


def _time_dimension(partitions_def: Any) -> Any:
    """The time-window partitions a schedule follows: the definition, or a multi's time
    dimension; None for static partitions."""
    from bakehouse.authoring.partitions import MultiPartitionsDefinition
    from bakehouse.authoring.time_window_partitions import TimeWindowPartitionsDefinition

    if isinstance(partitions_def, TimeWindowPartitionsDefinition):
        return partitions_def
    if isinstance(partitions_def, MultiPartitionsDefinition):
        dim = partitions_def.time_window_dimension
        return dim.partitions_def if dim is not None else None
    return None


def check_schedulable(partitions_def: Any, where: str, source: SourceLocation | None) -> None:
    """Refuse partitions a schedule cannot pick from by time: dynamic ones, or a multi
    definition without exactly one time dimension."""
    from bakehouse.authoring.partitions import StaticPartitionsDefinition

    if isinstance(partitions_def, StaticPartitionsDefinition):
        return
    if _time_dimension(partitions_def) is None:
        raise DefinitionError(
            f"{where} runs a job partitioned by {partitions_def}, from which a schedule cannot "
            "pick a partition; a schedule takes time-window partitions, static partitions, or "
            "two dimensions of which one is time-window. Use @schedule and return "
            "RunRequest(partition_key=...) instead",
            source=source,
        )


def partition_requests(
    partitions_def: Any,
    scheduled_time: dt.datetime,
    *,
    run_config: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
) -> list[RunRequest] | SkipReason:
    """The run requests of a tick at `scheduled_time`: the newest complete time partition (every
    key of it, for two dimensions), or every static key."""
    from bakehouse.authoring.partitions import MultiPartitionsDefinition

    def request(key: str) -> RunRequest:
        return RunRequest(run_key=key, run_config=run_config, tags=tags, partition_key=key)

    timed = _time_dimension(partitions_def)
    if timed is None:
        return [request(k) for k in partitions_def.get_partition_keys()]
    newest = timed.get_last_partition_key(current_time=scheduled_time)
    if newest is None:
        return SkipReason(f"no partition of {timed} is complete at {scheduled_time.isoformat()}")
    if isinstance(partitions_def, MultiPartitionsDefinition):
        dim = partitions_def.time_window_dimension
        assert dim is not None
        keys = partitions_def.get_partition_keys(current_time=scheduled_time)
        return [request(k) for k in keys if k.keys_by_dimension[dim.name] == newest]
    return [request(newest)]


class PartitionedScheduleDefinition(ScheduleDefinition):
    """A schedule built from a partitioned job; its cadence is known once the job's partitions
    are (at once for a job with `partitions_def`, else when `Definitions` resolves the job)."""

    def __init__(
        self,
        job: AssetJobDefinition,
        *,
        name: str | None,
        description: str | None,
        minute_of_hour: int | None,
        hour_of_day: int | None,
        day_of_week: int | None,
        day_of_month: int | None,
        default_status: DefaultScheduleStatus,
        tags: Mapping[str, str] | None,
        cron_schedule: str | None,
        execution_timezone: str | None,
        source: SourceLocation | None,
    ) -> None:
        where = f"build_schedule_from_partitioned_job({job.name!r})"
        if not isinstance(job, AssetJobDefinition):
            raise DefinitionError(f"{where}: job= must be a job (define_asset_job)", source=source)
        if day_of_week is not None and day_of_month is not None:
            raise DefinitionError(
                f"{where}: give day_of_week or day_of_month, not both", source=source
            )
        self._offsets = (minute_of_hour, hour_of_day, day_of_week, day_of_month)
        if (cron_schedule or execution_timezone) and any(v is not None for v in self._offsets):
            raise DefinitionError(
                f"{where}: give cron_schedule/execution_timezone or minute_of_hour/hour_of_day/"
                "day_of_week/day_of_month, not both",
                source=source,
            )
        # Replaced by the job's cadence in `resolve_partitions`; a valid cron until then.
        super().__init__(
            name or f"{job.name}_schedule",
            cron_schedule=cron_schedule or "0 0 * * *",
            job=job,
            execution_timezone=execution_timezone,
            description=description,
            default_status=default_status,
            tags=tags,
        )
        self.source = source
        self._given_cron = cron_schedule
        self._given_timezone = execution_timezone
        self._resolved = False
        if job.partitions_def is not None:
            self.resolve_partitions(job.partitions_def, job)

    def resolve_partitions(self, partitions_def: Any, job: AssetJobDefinition) -> None:
        """Take the cadence from the job's partitions; raise a `DefinitionError` if they cannot
        be scheduled."""
        if self._resolved:
            return
        where = f"schedule '{self.name}'"
        if partitions_def is None:
            raise DefinitionError(
                f"{where}: job '{job.name}' is not partitioned; build_schedule_from_partitioned_job"
                " needs a job with partitions_def= or partitioned assets (use ScheduleDefinition "
                "for others)",
                source=self.source,
            )
        check_schedulable(partitions_def, where, self.source)
        timed = _time_dimension(partitions_def)
        if timed is None:
            if not self._given_cron:
                raise DefinitionError(
                    f"{where}: job '{job.name}' has static partitions, which have no cadence: "
                    "give cron_schedule=",
                    source=self.source,
                )
        else:
            if self._given_cron or self._given_timezone:
                raise DefinitionError(
                    f"{where}: job '{job.name}' is partitioned by time, which sets the cadence "
                    "and time zone; drop cron_schedule/execution_timezone (move the time with "
                    "minute_of_hour, hour_of_day, day_of_week or day_of_month)",
                    source=self.source,
                )
            self.cron_schedule = timed.get_cron_schedule(*self._offsets)
            self.execution_timezone = timed.timezone
        self.partitions_def = partitions_def
        self._resolved = True

    def evaluate(
        self, scheduled_time: dt.datetime, resources: Mapping[str, Any] | None = None
    ) -> list[RunRequest] | SkipReason:
        """The newest partition(s) at `scheduled_time` (it has no function to give resources)."""
        if self.partitions_def is None:
            raise DefinitionError(
                f"schedule '{self.name}' was evaluated before its job was resolved by Definitions",
                source=self.source,
            )
        return partition_requests(self.partitions_def, scheduled_time, tags=self.tags)


def build_schedule_from_partitioned_job(
    job: AssetJobDefinition,
    description: str | None = None,
    name: str | None = None,
    minute_of_hour: int | None = None,
    hour_of_day: int | None = None,
    day_of_week: int | None = None,
    day_of_month: int | None = None,
    default_status: DefaultScheduleStatus = DefaultScheduleStatus.STOPPED,
    tags: Mapping[str, str] | None = None,
    cron_schedule: str | None = None,
    execution_timezone: str | None = None,
) -> ScheduleDefinition:
    """A schedule that runs `job` at the cadence of its time partitions, each tick for the newest
    partition complete at the tick (named ``<job>_schedule`` unless `name` is given).

    `minute_of_hour`, `hour_of_day`, `day_of_week` (0 is Sunday) and `day_of_month` move the
    tick within the cadence. A statically partitioned job needs `cron_schedule` and runs every
    partition at each tick.
    """
    return PartitionedScheduleDefinition(
        job,
        name=name,
        description=description,
        minute_of_hour=minute_of_hour,
        hour_of_day=hour_of_day,
        day_of_week=day_of_week,
        day_of_month=day_of_month,
        default_status=default_status,
        tags=tags,
        cron_schedule=cron_schedule,
        execution_timezone=execution_timezone,
        source=caller_source(),
    )

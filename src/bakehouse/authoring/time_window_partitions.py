"""Time-window partitions: one partition per window between two ticks of a cron schedule.

`TimeWindowPartitionsDefinition` and its hourly, daily, weekly and monthly forms, with Dagster's
semantics: a partition's key is its window's start formatted with `fmt`; the first partition
starts at the first tick at or after `start`; only windows complete at the current time are
partitions, unless `end_offset` adds (or removes) some at the end; windows ending after `end` are
not partitions. When an hourly schedule passes the same local time twice in autumn, the second
key gets its UTC offset appended (``2024-11-03-01:00-0500``), unless `fmt` holds ``%z`` already.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from bakehouse.authoring.partitions import (
    DynamicPartitionsStore,
    PartitionKeyRange,
    PartitionsDefinition,
)
from bakehouse.authoring.source import caller_source
from bakehouse.errors import DefinitionError, SourceLocation, UnknownPartitionError
from bakehouse.graph.time_ticks import (
    at,
    get_zone,
    repeats_every_hour,
    ticks_for,
    validate_cron,
)
from bakehouse.graph.time_windows import (
    format_key,
    last_window_end,
    next_tick,
    tick_at_or_before,
    window_starts,
    with_offset,
)

DEFAULT_DATE_FORMAT = "%Y-%m-%d"
DEFAULT_HOURLY_FORMAT_WITHOUT_TIMEZONE = "%Y-%m-%d-%H:%M"


class TimeWindow(NamedTuple):
    """A partition's time span: from `start` (included) to `end` (excluded), both aware."""

    start: datetime
    end: datetime


class TimeWindowPartitionsDefinition(PartitionsDefinition):
    """Partitions that are the windows between consecutive ticks of `cron_schedule`."""

    def __init__(
        self,
        start: datetime | str,
        fmt: str,
        end: datetime | str | None = None,
        schedule_type: Any = None,
        timezone: str | None = None,
        end_offset: int = 0,
        minute_offset: int | None = None,
        hour_offset: int | None = None,
        day_offset: int | None = None,
        cron_schedule: str | None = None,
    ) -> None:
        source = caller_source()
        self.source = source
        if not isinstance(fmt, str) or "%" not in fmt:
            raise DefinitionError(
                f"fmt {fmt!r} is not a date format: use strftime codes like '%Y-%m-%d'",
                source=source,
            )
        if not isinstance(end_offset, int) or isinstance(end_offset, bool):
            raise DefinitionError(f"end_offset must be an int, got {end_offset!r}", source=source)
        self.timezone = timezone or "UTC"
        try:
            self._tz = get_zone(self.timezone)
        except ValueError as exc:
            raise DefinitionError(str(exc), source=source) from None
        self.fmt = fmt
        self.end_offset = end_offset
        self.cron_schedule = _cron(
            cron_schedule, schedule_type, minute_offset, hour_offset, day_offset, source
        )
        self._every_hour = repeats_every_hour(self.cron_schedule)
        self._ticks = ticks_for(self.cron_schedule, self._tz)
        self.start = self._bound(start, "start", source)
        self.end = None if not end else self._bound(end, "end", source)
        if self.end is not None and self.end.timestamp() <= self.start.timestamp():
            raise DefinitionError(
                f"start {self._show(self.start)} is not before end {self._show(self.end)}",
                source=source,
            )
        self._first_tick = next(self._ticks.at_or_after(self.start.timestamp()))
        self._check_fmt(source)

    # -- construction checks ------------------------------------------------------------------

    def _bound(self, value: Any, name: str, source: SourceLocation | None) -> datetime:
        if isinstance(value, datetime):
            # As Dagster does: the given wall-clock time, read in the definition's zone.
            return value.replace(tzinfo=self._tz)
        if isinstance(value, str):
            try:
                return self._parse(value)
            except ValueError:
                example = at(time.time(), self._tz).strftime(self.fmt)
                raise DefinitionError(
                    f"{name} {value!r} does not match fmt {self.fmt!r} (like {example!r}); give "
                    f"a string in that format or a datetime",
                    source=source,
                ) from None
        raise DefinitionError(
            f"{name} must be a datetime or a string, got {value!r}", source=source
        )

    def _check_fmt(self, source: SourceLocation | None) -> None:
        ticks = self._ticks.at_or_after(self._first_tick.timestamp())
        first, second = next(ticks), next(ticks)
        keys = [self._format(first), self._format(second)]
        problem = None
        if keys[0] == keys[1]:
            problem = f"gives two partitions the same key ({keys[0]!r})"
        else:
            try:
                read_back = [self.time_window_for_partition_key(k).start for k in keys]
            except ValueError as exc:
                problem = f"cannot be read back ({exc})"
            else:
                if [t.timestamp() for t in read_back] != [first.timestamp(), second.timestamp()]:
                    problem = f"does not read back to the partition start ({keys[0]!r})"
        if problem:
            raise DefinitionError(
                f"fmt {self.fmt!r} {problem} for schedule '{self.cron_schedule}': use a format "
                "at least as fine as the partitions (e.g. '%Y-%m-%d', or '%Y-%m-%d-%H:%M' "
                "for hourly)",
                source=source,
            )

    def _show(self, moment: datetime) -> str:
        return moment.strftime("%Y-%m-%d %H:%M") + f" {self.timezone}"

    # -- keys and times -----------------------------------------------------------------------

    def _format(self, moment: datetime) -> str:
        return format_key(moment, self.fmt, self._tz, every_hour=self._every_hour)

    def _parse(self, text: str) -> datetime:
        try:
            parsed = datetime.strptime(text, self.fmt)
        except ValueError:
            parsed = datetime.strptime(text, with_offset(self.fmt))
        if parsed.tzinfo is not None:
            return at(parsed.timestamp(), self._tz)
        return parsed.replace(tzinfo=self._tz, fold=0)

    def _now(self, current_time: datetime | None) -> float:
        if current_time is None:
            return time.time()
        if current_time.tzinfo is None:  # naive: read in the definition's zone, as Dagster does
            current_time = current_time.replace(tzinfo=self._tz)
        return current_time.timestamp()

    def _tick_at_or_before(self, timestamp: float) -> datetime:
        return tick_at_or_before(self._ticks, timestamp)

    def _next_tick(self, tick: datetime) -> datetime:
        return next_tick(self._ticks, tick)

    def window_bounds(self, start: datetime, end: datetime) -> TimeWindow:
        """The smallest span of whole windows covering `start` to `end` (for partition mappings):
        from the last tick at or before `start` to the first tick at or after `end`."""
        return TimeWindow(
            self._tick_at_or_before(start.timestamp()),
            next(self._ticks.at_or_after(end.timestamp())),
        )

    def shift(self, tick: datetime, windows: int) -> datetime:
        """The tick `windows` windows after `tick` (before it when negative)."""
        for _ in range(abs(windows)):
            tick = self._next_tick(tick) if windows > 0 else self._ticks.before(tick.timestamp())
        return tick

    def _last_end(self, now: float) -> datetime | None:
        """The end of the last partition's window at `now`, or None if there are no partitions."""
        end = self.end.timestamp() if self.end is not None else None
        return last_window_end(
            self._ticks, self._first_tick, now=now, end=end, end_offset=self.end_offset
        )

    def get_partition_keys(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> Sequence[str]:
        """The keys of every partition at `current_time` (default: now), oldest first."""
        last_end = self._last_end(self._now(current_time))
        if last_end is None:
            return []
        return [self._format(s) for s in window_starts(self._ticks, self._first_tick, last_end)]

    def get_first_partition_window(self, current_time: datetime | None = None) -> TimeWindow | None:
        """The window of the first partition, or None if there are none yet."""
        if self._last_end(self._now(current_time)) is None:
            return None
        return TimeWindow(self._first_tick, self._next_tick(self._first_tick))

    def get_last_partition_window(self, current_time: datetime | None = None) -> TimeWindow | None:
        """The window of the last partition, or None if there are none yet."""
        last_end = self._last_end(self._now(current_time))
        if last_end is None:
            return None
        return TimeWindow(self._ticks.before(last_end.timestamp()), last_end)

    def get_first_partition_key(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> str | None:
        """The first key, or None if no window is complete yet."""
        window = self.get_first_partition_window(current_time)
        return self._format(window.start) if window else None

    def get_last_partition_key(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> str | None:
        """The newest key (the last complete window, moved by `end_offset`), or None."""
        window = self.get_last_partition_window(current_time)
        return self._format(window.start) if window else None

    def get_num_partitions(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> int:
        """How many partitions there are at `current_time`."""
        return len(self.get_partition_keys(current_time))

    def time_window_for_partition_key(self, partition_key: str) -> TimeWindow:
        """The window starting at the first tick at or after the time the key names.

        Raises ValueError if the key does not match `fmt`.
        """
        ticks = self._ticks.at_or_after(self._parse(partition_key).timestamp())
        return TimeWindow(next(ticks), next(ticks))

    def start_time_for_partition_key(self, partition_key: str) -> datetime:
        """When the key's window starts."""
        return self.time_window_for_partition_key(partition_key).start

    def end_time_for_partition_key(self, partition_key: str) -> datetime:
        """When the key's window ends."""
        return self.time_window_for_partition_key(partition_key).end

    def has_partition_key(
        self,
        partition_key: str,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> bool:
        """True if `partition_key` is exactly the key of one of the partitions at `current_time`."""
        try:
            window = self.time_window_for_partition_key(partition_key)
        except ValueError:
            return False
        last_end = self._last_end(self._now(current_time))
        return (
            last_end is not None
            and self._first_tick.timestamp() <= window.start.timestamp()
            and window.end.timestamp() <= last_end.timestamp()
            and self._format(window.start) == partition_key
        )

    def get_partition_keys_in_time_window(self, time_window: TimeWindow) -> Sequence[str]:
        """The keys of the windows that start inside `time_window` (from its start)."""
        keys = []
        for tick in self._ticks.at_or_after(time_window.start.timestamp()):
            if tick.timestamp() >= time_window.end.timestamp():
                break
            keys.append(self._format(tick))
        return keys

    def get_partition_keys_in_range(
        self,
        partition_key_range: PartitionKeyRange,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> Sequence[str]:
        """The keys from the range's start to its end, both included."""
        first, last = partition_key_range
        try:
            start = self.start_time_for_partition_key(first)
            end = self.end_time_for_partition_key(last)
        except ValueError:
            bad = first if not self._parses(first) else last
            raise UnknownPartitionError(bad, str(self)) from None
        if start.timestamp() < self.start.timestamp():
            raise UnknownPartitionError(first, str(self))
        if self.end is not None and end.timestamp() > self.end.timestamp():
            raise UnknownPartitionError(last, str(self))
        return self.get_partition_keys_in_time_window(TimeWindow(start, end))

    def _parses(self, key: str) -> bool:
        try:
            self._parse(key)
        except ValueError:
            return False
        return True

    def get_partition_key_for_timestamp(self, timestamp: float, end_closed: bool = False) -> str:
        """The key of the window holding `timestamp`; at a tick, `end_closed` picks the window
        that ends there instead of the one that starts there."""
        tick = self._tick_at_or_before(timestamp)
        if end_closed and tick.timestamp() == timestamp:
            tick = self._ticks.before(timestamp)
        return self._format(tick)

    def get_cron_schedule(
        self,
        minute_of_hour: int | None = None,
        hour_of_day: int | None = None,
        day_of_week: int | None = None,
        day_of_month: int | None = None,
    ) -> str:
        """The cron schedule whose ticks bound the windows; with overrides, the same cadence at
        another minute, hour or day (a daily job partitioned midnight to midnight, run at 2 am).

        Overrides need an hourly, daily, weekly or monthly shape; an hourly cadence takes no
        hour, a daily one no day. Unset parts keep the partitions' offsets.
        """
        overrides = (minute_of_hour, hour_of_day, day_of_week, day_of_month)
        if all(v is None for v in overrides):
            return self.cron_schedule
        kind = self.schedule_type
        if kind is None:
            raise DefinitionError(
                f"partitions on cron schedule {self.cron_schedule!r} take no "
                "minute_of_hour/hour_of_day/day_of_week/day_of_month overrides",
                source=self.source,
            )
        if kind == "HOURLY" and hour_of_day is not None:
            raise DefinitionError("hourly partitions take no hour_of_day", source=self.source)
        if kind in ("HOURLY", "DAILY") and (day_of_week is not None or day_of_month is not None):
            raise DefinitionError(
                f"{kind.lower()} partitions take no day_of_week or day_of_month",
                source=self.source,
            )
        minute = self.minute_offset if minute_of_hour is None else minute_of_hour
        hour = self.hour_offset if hour_of_day is None else hour_of_day
        if kind == "MONTHLY":
            day: int | None = day_of_month if day_of_month is not None else self.day_offset or 1
        elif kind == "WEEKLY":
            day = day_of_week if day_of_week is not None else self.day_offset
        else:
            day = None
        return _cron(None, kind, minute, hour, day, self.source)

    # -- the schedule's shape -----------------------------------------------------------------

    @property
    def schedule_type(self) -> str | None:
        """``HOURLY``, ``DAILY``, ``WEEKLY`` or ``MONTHLY`` for those shapes, else None."""
        minute, hour, dom, month, dow = self.cron_schedule.split()
        numeric = [f.isdigit() for f in (minute, hour, dom, month, dow)]
        if numeric[0] and (hour, dom, month, dow) == ("*", "*", "*", "*"):
            return "HOURLY"
        if not (numeric[0] and numeric[1] and month == "*"):
            return None
        if (dom, dow) == ("*", "*"):
            return "DAILY"
        if dom == "*" and numeric[4]:
            return "WEEKLY"
        if dow == "*" and numeric[2]:
            return "MONTHLY"
        return None

    @property
    def minute_offset(self) -> int:
        """Minutes past the hour at which windows start."""
        return int(self.cron_schedule.split()[0])

    @property
    def hour_offset(self) -> int:
        """Hours past midnight at which windows start (0 for hourly)."""
        hour = self.cron_schedule.split()[1]
        return int(hour) if hour.isdigit() else 0

    @property
    def day_offset(self) -> int:
        """Weekly: the weekday windows start on (0 is Sunday); monthly: the day of the month."""
        fields = self.cron_schedule.split()
        if self.schedule_type == "WEEKLY":
            return int(fields[4])
        if self.schedule_type == "MONTHLY":
            return int(fields[2])
        return 0

    def _identity(self) -> tuple[Any, ...]:
        end = self.end.timestamp() if self.end is not None else None
        return (
            self.start.timestamp(),
            end,
            self.timezone,
            self.fmt,
            self.end_offset,
            self.cron_schedule,
        )

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TimeWindowPartitionsDefinition)
            and self._identity() == other._identity()
        )

    def __hash__(self) -> int:
        return hash(self._identity())

    def __str__(self) -> str:
        kind = (self.schedule_type or self.cron_schedule).capitalize()
        text = f"{kind}, starting {self._format(self.start)} {self.timezone}."
        if self.end_offset:
            plural = "" if self.end_offset == 1 else "s"
            text += f" End offsetted by {self.end_offset} partition{plural}."
        return text

    def __repr__(self) -> str:
        end = self.end.isoformat() if self.end is not None else None
        return (
            f"{type(self).__name__}(start={self.start.isoformat()!r}, end={end!r}, "
            f"timezone={self.timezone!r}, fmt={self.fmt!r}, end_offset={self.end_offset}, "
            f"cron_schedule={self.cron_schedule!r})"
        )


def _offset(value: Any, name: str, low: int, high: int, source: SourceLocation | None) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise DefinitionError(
            f"{name} must be an int from {low} to {high}, got {value!r}", source=source
        )
    return value


def _cron(
    cron_schedule: str | None,
    schedule_type: Any,
    minute_offset: int | None,
    hour_offset: int | None,
    day_offset: int | None,
    source: SourceLocation | None,
) -> str:
    """The cron schedule given, or the one a schedule type and offsets describe."""
    if cron_schedule is not None:
        if schedule_type is not None or minute_offset or hour_offset or day_offset:
            raise DefinitionError(
                "give either cron_schedule or schedule_type with offsets, not both", source=source
            )
        problem = validate_cron(cron_schedule)
        if problem:
            raise DefinitionError(
                f"invalid cron schedule {cron_schedule!r} for time-window partitions: {problem}",
                source=source,
            )
        return cron_schedule
    kind = str(getattr(schedule_type, "value", schedule_type) or "").upper()
    minute = _offset(minute_offset or 0, "minute_offset", 0, 59, source)
    if kind == "HOURLY":
        return f"{minute} * * * *"
    hour = _offset(hour_offset or 0, "hour_offset", 0, 23, source)
    if kind == "DAILY":
        return f"{minute} {hour} * * *"
    if kind == "WEEKLY":
        day = _offset(day_offset or 0, "day_offset", 0, 6, source)
        return f"{minute} {hour} * * {day}"
    if kind == "MONTHLY":
        day = _offset(1 if day_offset is None else day_offset, "day_offset", 1, 31, source)
        return f"{minute} {hour} {day} * *"
    raise DefinitionError(
        "give cron_schedule=, or schedule_type= HOURLY, DAILY, WEEKLY or MONTHLY", source=source
    )


class HourlyPartitionsDefinition(TimeWindowPartitionsDefinition):
    """One partition per hour from `start_date` (a string in `fmt`, ``"2024-01-01-00:00"``)."""

    def __init__(
        self,
        start_date: datetime | str,
        end_date: datetime | str | None = None,
        minute_offset: int = 0,
        timezone: str | None = None,
        fmt: str | None = None,
        end_offset: int = 0,
    ) -> None:
        super().__init__(
            start=start_date,
            fmt=fmt or DEFAULT_HOURLY_FORMAT_WITHOUT_TIMEZONE,
            end=end_date,
            schedule_type="HOURLY",
            timezone=timezone,
            end_offset=end_offset,
            minute_offset=minute_offset,
        )


class DailyPartitionsDefinition(TimeWindowPartitionsDefinition):
    """One partition per day from `start_date`, starting at `hour_offset`:`minute_offset`."""

    def __init__(
        self,
        start_date: datetime | str,
        end_date: datetime | str | None = None,
        minute_offset: int = 0,
        hour_offset: int = 0,
        timezone: str | None = None,
        fmt: str | None = None,
        end_offset: int = 0,
    ) -> None:
        super().__init__(
            start=start_date,
            fmt=fmt or DEFAULT_DATE_FORMAT,
            end=end_date,
            schedule_type="DAILY",
            timezone=timezone,
            end_offset=end_offset,
            minute_offset=minute_offset,
            hour_offset=hour_offset,
        )


class WeeklyPartitionsDefinition(TimeWindowPartitionsDefinition):
    """One partition per week, starting on Sunday unless `day_offset` names another weekday
    (0 is Sunday, 1 Monday, ... 6 Saturday)."""

    def __init__(
        self,
        start_date: datetime | str,
        end_date: datetime | str | None = None,
        minute_offset: int = 0,
        hour_offset: int = 0,
        day_offset: int = 0,
        timezone: str | None = None,
        fmt: str | None = None,
        end_offset: int = 0,
    ) -> None:
        super().__init__(
            start=start_date,
            fmt=fmt or DEFAULT_DATE_FORMAT,
            end=end_date,
            schedule_type="WEEKLY",
            timezone=timezone,
            end_offset=end_offset,
            minute_offset=minute_offset,
            hour_offset=hour_offset,
            day_offset=day_offset,
        )


class MonthlyPartitionsDefinition(TimeWindowPartitionsDefinition):
    """One partition per month, starting on day `day_offset` (default the 1st) of each month."""

    def __init__(
        self,
        start_date: datetime | str,
        end_date: datetime | str | None = None,
        minute_offset: int = 0,
        hour_offset: int = 0,
        day_offset: int = 1,
        timezone: str | None = None,
        fmt: str | None = None,
        end_offset: int = 0,
    ) -> None:
        super().__init__(
            start=start_date,
            fmt=fmt or DEFAULT_DATE_FORMAT,
            end=end_date,
            schedule_type="MONTHLY",
            timezone=timezone,
            end_offset=end_offset,
            minute_offset=minute_offset,
            hour_offset=hour_offset,
            day_offset=day_offset,
        )

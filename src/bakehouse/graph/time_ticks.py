"""The instants at which a time-window partitions definition's cron schedule ticks, in its zone.

Each partition of a time-window definition runs from one tick to the next, so these rules decide
every key. Daylight-saving changes are handled as Dagster handles them:

- A schedule that repeats every hour (``"15 * * * *"``) ticks at every real instant whose local
  minute matches: a local time skipped in spring has no tick, a local hour repeated in autumn
  ticks twice.
- Any other schedule (daily, weekly, monthly, custom) whose local time is skipped ticks when the
  gap ends (02:30 on a spring-forward night becomes 03:00); one whose local time happens twice
  ticks at the second of the two.

Daily, weekly and monthly schedules (days 1 to 28) and hourly ones are computed directly; any
other cron string goes through croniter on local wall-clock times.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Protocol

# Hours in which the standard schedules check for skipped or repeated local times, as Dagster's do.
_DST_HOURS = frozenset({1, 2, 3})
_FIELD = re.compile(r"^\d+$")
# Anything a tick derived from a later local time can precede, in seconds: offsets change by at
# most a couple of hours, so a tick this far behind the local time being read is final.
_SETTLE_SECONDS = 3 * 3600


def get_zone(name: str) -> tzinfo:
    """The tzinfo for an IANA zone name (``UTC`` is `timezone.utc`); ValueError if unknown."""
    if name in ("UTC", "utc"):
        return timezone.utc
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(
            f"unknown timezone {name!r}: use an IANA zone name such as 'UTC', "
            "'Europe/Berlin' or 'America/New_York'"
        ) from None


def at(timestamp: float, tz: tzinfo) -> datetime:
    """`timestamp` as an aware datetime in `tz` (with `fold` set for a repeated local time)."""
    return datetime.fromtimestamp(timestamp, tz)


def _exists(naive: datetime, tz: tzinfo) -> bool:
    aware = naive.replace(tzinfo=tz)
    return aware.astimezone(timezone.utc).astimezone(tz).replace(tzinfo=None) == naive


def _ambiguous(naive: datetime, tz: tzinfo) -> bool:
    return tz.utcoffset(naive.replace(tzinfo=tz, fold=0)) != tz.utcoffset(
        naive.replace(tzinfo=tz, fold=1)
    )


def localize(naive: datetime, tz: tzinfo, *, dst_hours_only: bool = True) -> datetime:
    """The instant a non-hourly schedule ticks at for local time `naive` (see the module doc).

    The standard schedules check for a skipped local time only between 01:00 and 03:59 (and for a
    repeated one there too); custom schedules check for a repeated one at any hour.
    """
    if naive.hour in _DST_HOURS and not _exists(naive, tz):
        before = tz.utcoffset(naive.replace(tzinfo=tz, fold=0))
        after = tz.utcoffset(naive.replace(tzinfo=tz, fold=1))
        gap = abs((after or timedelta()) - (before or timedelta()))
        naive = naive.replace(minute=0, second=0, microsecond=0) + gap
    elif (naive.hour in _DST_HOURS or not dst_hours_only) and _ambiguous(naive, tz):
        return at(naive.replace(tzinfo=tz, fold=1).timestamp(), tz)
    return at(naive.replace(tzinfo=tz).timestamp(), tz)


class Ticks(Protocol):
    """The ticks of one schedule in one zone."""

    def at_or_after(self, timestamp: float) -> Iterator[datetime]:
        """Every tick at or after `timestamp`, in order (an endless iterator)."""

    def before(self, timestamp: float) -> datetime:
        """The last tick strictly before `timestamp`."""


class _HourlyTicks:
    """``"M * * * *"``: local minute M of every hour, stepping in real hours."""

    def __init__(self, minute: int, tz: tzinfo) -> None:
        self.minute = minute
        self.tz = tz

    def _anchor(self, timestamp: float) -> float:
        # The tick in the UTC hour holding `timestamp`; zones whose offset has minutes (+05:30)
        # shift the UTC minute that is local minute M.
        offset = self.tz.utcoffset(at(timestamp, self.tz)) or timedelta()
        offset_minutes = int(offset.total_seconds() // 60) % 60
        hour_start = timestamp - timestamp % 3600
        return hour_start + ((self.minute - offset_minutes) % 60) * 60

    def at_or_after(self, timestamp: float) -> Iterator[datetime]:
        tick = self._anchor(timestamp)
        while tick < timestamp:
            tick += 3600
        while tick - 3600 >= timestamp:
            tick -= 3600
        while True:
            yield at(tick, self.tz)
            tick += 3600

    def before(self, timestamp: float) -> datetime:
        tick = self._anchor(timestamp)
        while tick >= timestamp:
            tick -= 3600
        while tick + 3600 < timestamp:
            tick += 3600
        return at(tick, self.tz)


def _cron_weekday(day: date) -> int:
    return day.isoweekday() % 7  # cron counts Sunday as 0


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, day.day)


class _CalendarTicks:
    """Daily, weekly (on a weekday) or monthly (on a day of the month up to 28) at local H:M."""

    def __init__(self, kind: str, minute: int, hour: int, day: int, tz: tzinfo) -> None:
        self.kind = kind
        self.minute = minute
        self.hour = hour
        self.day = day
        self.tz = tz

    def _slot_on_or_before(self, day: date) -> date:
        if self.kind == "daily":
            return day
        if self.kind == "weekly":
            return day - timedelta(days=(_cron_weekday(day) - self.day) % 7)
        this_month = day.replace(day=self.day)
        return this_month if this_month <= day else _add_months(this_month, -1)

    def _step(self, slot: date, n: int) -> date:
        if self.kind == "daily":
            return slot + timedelta(days=n)
        if self.kind == "weekly":
            return slot + timedelta(days=7 * n)
        return _add_months(slot, n)

    def _instant(self, slot: date) -> datetime:
        naive = datetime(slot.year, slot.month, slot.day, self.hour, self.minute)
        return localize(naive, self.tz)

    def at_or_after(self, timestamp: float) -> Iterator[datetime]:
        slot = self._slot_on_or_before(at(timestamp, self.tz).date())
        tick = self._instant(slot)
        while tick.timestamp() < timestamp:
            slot = self._step(slot, 1)
            tick = self._instant(slot)
        while True:
            yield tick
            slot = self._step(slot, 1)
            tick = self._instant(slot)

    def before(self, timestamp: float) -> datetime:
        slot = self._slot_on_or_before(at(timestamp, self.tz).date())
        tick = self._instant(slot)
        while tick.timestamp() >= timestamp:
            slot = self._step(slot, -1)
            tick = self._instant(slot)
        return tick


class _CronTicks:
    """Any other cron string: croniter over local wall-clock times, then the rules above."""

    def __init__(self, cron_schedule: str, tz: tzinfo) -> None:
        from croniter import croniter

        self.cron_schedule = cron_schedule
        self.tz = tz
        expanded = croniter.expand(cron_schedule)[0]
        self.every_hour = list(expanded[1]) == ["*"]

    def _instants(self, naive: datetime) -> list[datetime]:
        if not _exists(naive, self.tz):
            if self.every_hour:
                return []  # an hourly schedule skips the missing hour
            return [localize(naive, self.tz, dst_hours_only=False)]
        if _ambiguous(naive, self.tz):
            second = at(naive.replace(tzinfo=self.tz, fold=1).timestamp(), self.tz)
            if not self.every_hour:
                return [second]
            return [at(naive.replace(tzinfo=self.tz, fold=0).timestamp(), self.tz), second]
        return [at(naive.replace(tzinfo=self.tz).timestamp(), self.tz)]

    def _from_naive(self, start: datetime) -> Iterator[datetime]:
        from croniter import croniter

        # Ticks of a repeated hour interleave (01:00, 01:30, 01:00 again, 01:30 again): keep
        # them in a heap until no later local time can yield an earlier instant.
        pending: list[tuple[float, datetime]] = []
        times = croniter(self.cron_schedule, start - timedelta(seconds=1))
        while True:
            naive = times.get_next(datetime)
            for instant in self._instants(naive):
                heapq.heappush(pending, (instant.timestamp(), instant))
            horizon = naive.replace(tzinfo=self.tz).timestamp() - _SETTLE_SECONDS
            while pending and pending[0][0] < horizon:
                yield heapq.heappop(pending)[1]

    def at_or_after(self, timestamp: float) -> Iterator[datetime]:
        local = at(timestamp, self.tz).replace(tzinfo=None) - timedelta(seconds=_SETTLE_SECONDS)
        for tick in self._from_naive(local):
            if tick.timestamp() >= timestamp:
                yield tick

    def before(self, timestamp: float) -> datetime:
        from croniter import croniter

        local = at(timestamp, self.tz).replace(tzinfo=None) - timedelta(seconds=_SETTLE_SECONDS)
        start = croniter(self.cron_schedule, local).get_prev(datetime)
        found: datetime | None = None
        for tick in self._from_naive(start - timedelta(seconds=_SETTLE_SECONDS)):
            if tick.timestamp() >= timestamp:
                break
            found = tick
        if found is None:  # pragma: no cover - croniter always finds an earlier time
            raise ValueError(f"no tick of {self.cron_schedule!r} before {timestamp}")
        return found


def validate_cron(cron_schedule: str) -> str | None:
    """Why `cron_schedule` cannot define time windows, or None when it can."""
    from croniter import croniter

    if not isinstance(cron_schedule, str) or len(cron_schedule.split()) != 5:
        return "it needs exactly five fields (minute hour day-of-month month day-of-week)"
    if not croniter.is_valid(cron_schedule):
        return "croniter cannot parse it"
    return None


def ticks_for(cron_schedule: str, tz: tzinfo) -> Ticks:
    """The ticks of `cron_schedule` (already validated) in zone `tz`."""
    minute, hour, dom, month, dow = cron_schedule.split()
    numeric = [bool(_FIELD.match(f)) for f in (minute, hour, dom, month, dow)]
    if numeric[0] and (hour, dom, month, dow) == ("*", "*", "*", "*") and int(minute) < 60:
        return _HourlyTicks(int(minute), tz)
    if numeric[0] and numeric[1] and int(minute) < 60 and int(hour) < 24 and month == "*":
        if (dom, dow) == ("*", "*"):
            return _CalendarTicks("daily", int(minute), int(hour), 0, tz)
        if dom == "*" and numeric[4] and int(dow) <= 7:
            return _CalendarTicks("weekly", int(minute), int(hour), int(dow) % 7, tz)
        if dow == "*" and numeric[2] and 1 <= int(dom) <= 28:
            return _CalendarTicks("monthly", int(minute), int(hour), int(dom), tz)
    return _CronTicks(cron_schedule, tz)


def repeats_every_hour(cron_schedule: str) -> bool:
    """True when the schedule ticks in every hour (its hour field is ``*``)."""
    from croniter import croniter

    return list(croniter.expand(cron_schedule)[0][1]) == ["*"]


def latest_tick_at_or_before(cron_schedule: str, timezone_name: str, timestamp: float) -> float:
    """The latest tick of `cron_schedule` (in the named zone) at or before `timestamp`: the
    deadline a freshness policy or check judges by."""
    ticks = ticks_for(cron_schedule, get_zone(timezone_name))
    upcoming = next(ticks.at_or_after(timestamp)).timestamp()
    return upcoming if upcoming <= timestamp else ticks.before(timestamp).timestamp()


def next_tick_after(cron_schedule: str, timezone_name: str, timestamp: float) -> float:
    """The first tick of `cron_schedule` (in the named zone) after `timestamp`."""
    for tick in ticks_for(cron_schedule, get_zone(timezone_name)).at_or_after(timestamp):
        if tick.timestamp() > timestamp:
            return tick.timestamp()
    raise ValueError(f"{cron_schedule!r} has no tick after {timestamp}")  # pragma: no cover

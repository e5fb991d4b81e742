"""Which windows of a time-window partitions definition are partitions, and their keys.

The one implementation of these rules, used by the authoring definitions
(`authoring.time_window_partitions`) and by the host, which computes keys from a snapshot
without user code (`location.partition_keys`); it lives here because the host may not import
authoring. The rules are Dagster's: a partition is a complete window between two ticks, from
the first tick at or after the start to the last tick at or before now (or the end date, if
earlier); `end_offset` adds windows past that (never past the end date) or removes them; and an
hourly key in a repeated autumn hour carries its UTC offset so that its two keys differ.
"""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo

from bakehouse.graph.time_ticks import Ticks


def with_offset(fmt: str) -> str:
    """`fmt` with a UTC offset (``%z``) at the end, unless it has one."""
    return fmt if "%z" in fmt else fmt + "%z"


def tick_at_or_before(ticks: Ticks, timestamp: float) -> datetime:
    """The last tick at or before `timestamp`."""
    tick = next(ticks.at_or_after(timestamp))
    return tick if tick.timestamp() == timestamp else ticks.before(timestamp)


def next_tick(ticks: Ticks, tick: datetime) -> datetime:
    """The first tick strictly after `tick`."""
    later = ticks.at_or_after(tick.timestamp())
    found = next(later)
    return next(later) if found.timestamp() == tick.timestamp() else found


def last_window_end(
    ticks: Ticks, first: datetime, *, now: float, end: float | None, end_offset: int
) -> datetime | None:
    """The end of the last partition's window at `now`, or None when there is no partition.

    `first` is the first tick (the start of the first window); `end` the end date's timestamp.
    """
    last = tick_at_or_before(ticks, now if end is None else min(now, end))
    if end_offset > 0:
        bound = tick_at_or_before(ticks, end) if end is not None else None
        for _ in range(end_offset):
            following = next_tick(ticks, last)
            if bound is not None and following.timestamp() > bound.timestamp():
                break
            last = following
    for _ in range(-end_offset):
        if last.timestamp() <= first.timestamp():
            break
        last = ticks.before(last.timestamp())
    return last if last.timestamp() > first.timestamp() else None


def window_starts(ticks: Ticks, first: datetime, last_end: datetime) -> list[datetime]:
    """The start of every window from `first` to the one ending at `last_end`, oldest first."""
    starts: list[datetime] = []
    window = ticks.at_or_after(first.timestamp())
    start = next(window)
    for tick in window:
        if tick.timestamp() > last_end.timestamp():
            break
        starts.append(start)
        start = tick
    return starts


def format_key(moment: datetime, fmt: str, tz: tzinfo, *, every_hour: bool) -> str:
    """The key of the window starting at `moment`.

    A repeated local hour (autumn) of a schedule that ticks every hour keeps its two keys apart
    by the UTC offset, added to the second one's `fmt` when it has none.
    """
    if "%z" in fmt or not every_hour or tz is timezone.utc:
        return moment.strftime(fmt)
    if moment.fold == 1:
        before = tz.utcoffset(moment.replace(fold=0))
        after = tz.utcoffset(moment)
        if before is not None and after is not None and before > after:
            return moment.strftime(with_offset(fmt))
    return moment.strftime(fmt)

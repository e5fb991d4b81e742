"""The partition keys of a `PartitionsSnap`, computed on the host without user code.

Time-window keys come from the same code as `authoring.time_window_partitions`' keys
(`graph.time_windows` over `graph.time_ticks`): only complete windows are partitions,
`end_offset` adds or removes windows at the end, and an hourly key in a repeated autumn hour
carries its UTC offset.
Dynamic keys live in the instance, so the caller passes a way to read them.
"""

from __future__ import annotations

import bisect
import difflib
import itertools
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from bakehouse.graph.time_ticks import get_zone, repeats_every_hour, ticks_for
from bakehouse.graph.time_windows import format_key, last_window_end, window_starts
from bakehouse.protocol.snapshot import (
    DynamicPartitionsSnap,
    PartitionsSnap,
    StaticPartitionsSnap,
    TimeWindowPartitionsSnap,
)

# The separator of a multi-partition key's dimension keys (as Dagster's "a|b").
MULTI_KEY_DELIMITER = "|"

DynamicKeys = Callable[[str], Sequence[str]]


def partition_keys(
    snap: PartitionsSnap, *, dynamic_keys: DynamicKeys, now: float | None = None
) -> list[str]:
    """Every key of `snap` at `now` (default: the current time), oldest first.

    Static keys in their order; time windows oldest first; dynamic keys in the order they were
    added (read through `dynamic_keys(name)`); multi keys with the first dimension (by name)
    varying slowest.
    """
    if isinstance(snap, StaticPartitionsSnap):
        return list(snap.keys)
    if isinstance(snap, DynamicPartitionsSnap):
        return list(dynamic_keys(snap.name))
    if isinstance(snap, TimeWindowPartitionsSnap):
        return _time_window_keys(snap, time.time() if now is None else now)
    per_dim = [
        partition_keys(d.partitions, dynamic_keys=dynamic_keys, now=now) for d in snap.dimensions
    ]
    return [MULTI_KEY_DELIMITER.join(combo) for combo in itertools.product(*per_dim)]


def unknown_key_message(key: str, valid: Sequence[str]) -> str:
    """Why `key` is refused: the valid keys' span and the ones nearest to it (by spelling, else
    by order)."""
    near = difflib.get_close_matches(key, list(valid), n=3, cutoff=0.5)
    if not near and valid:
        ordered = sorted(valid)
        at = bisect.bisect_left(ordered, key)
        near = ordered[max(0, at - 1) : at + 1]
    span = f"{valid[0]} … {valid[-1]}, {len(valid)} keys" if valid else "no keys yet"
    hint = f"; nearest: {', '.join(near)}" if near else ""
    return f"unknown partition key {key!r} ({span}){hint}"


def describe(snap: PartitionsSnap) -> str:
    """A short human description of a partitions definition, for error messages."""
    if isinstance(snap, TimeWindowPartitionsSnap):
        kind = (snap.schedule_type or "time-window").lower()
        return f"{kind} partitions from {snap.start} ({snap.timezone or 'UTC'})"
    if isinstance(snap, StaticPartitionsSnap):
        return f"static partitions {list(snap.keys)[:5]}{'...' if len(snap.keys) > 5 else ''}"
    if isinstance(snap, DynamicPartitionsSnap):
        return f"dynamic partitions '{snap.name}'"
    return "multi-partitions by " + " and ".join(d.name for d in snap.dimensions)


def _time_window_keys(snap: TimeWindowPartitionsSnap, now: float) -> list[str]:
    tz = get_zone(snap.timezone or "UTC")
    ticks = ticks_for(snap.cron_schedule, tz)
    first = next(ticks.at_or_after(datetime.fromisoformat(snap.start).timestamp()))
    end = datetime.fromisoformat(snap.end).timestamp() if snap.end else None
    last_end = last_window_end(ticks, first, now=now, end=end, end_offset=snap.end_offset)
    if last_end is None:
        return []
    every_hour = repeats_every_hour(snap.cron_schedule)
    return [
        format_key(start, snap.fmt, tz, every_hour=every_hour)
        for start in window_starts(ticks, first, last_end)
    ]

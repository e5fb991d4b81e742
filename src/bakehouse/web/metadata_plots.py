"""Numeric materialization metadata over time, as small server-drawn SVG plots for the asset page
(row counts, durations, sizes: every ``int`` or ``float`` label of the latest materializations).

No script and no chart library: each plot is one SVG path scaled to its own range, with a point
per materialization whose tooltip says the value and when.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from markupsafe import Markup

from bakehouse.storage.records import EventRecord

# The newest this many materializations are plotted.
HISTORY = 100
WIDTH, HEIGHT, PAD = 240.0, 44.0, 4.0


@dataclass(frozen=True)
class Series:
    """One numeric label's values, oldest first, as (timestamp, value)."""

    label: str
    points: tuple[tuple[float, float], ...]

    @property
    def latest(self) -> float:
        """The newest value."""
        return self.points[-1][1]

    @property
    def low(self) -> float:
        """The smallest value."""
        return min(v for _, v in self.points)

    @property
    def high(self) -> float:
        """The largest value."""
        return max(v for _, v in self.points)


def _number(entry: object) -> float | None:
    if not isinstance(entry, dict) or entry.get("type") not in ("int", "float"):
        return None
    value = entry.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def numeric_series(history: Iterable[EventRecord]) -> list[Series]:
    """A series per numeric metadata label of `history` (materializations, newest first), in
    the order the labels first appeared; labels seen once are left out (a plot of one point
    says nothing)."""
    values: dict[str, list[tuple[float, float]]] = {}
    for event in reversed(list(history)):  # oldest first
        metadata = event.data.get("metadata") or {}
        if not isinstance(metadata, dict):
            continue
        for label, entry in metadata.items():
            number = _number(entry)
            if number is not None:
                values.setdefault(str(label), []).append((event.timestamp, number))
    return [Series(label, tuple(points)) for label, points in values.items() if len(points) > 1]


def _short(value: float) -> str:
    return f"{int(value):,}" if value.is_integer() else f"{value:,.4g}"


def sparkline(series: Series) -> Markup:
    """`series` as an inline SVG line with a dot per materialization (tooltip: value, time)."""
    low, high = series.low, series.high
    span = high - low or 1.0
    count = len(series.points)
    step = (WIDTH - 2 * PAD) / max(count - 1, 1)

    def xy(i: int, value: float) -> tuple[float, float]:
        y = HEIGHT - PAD - (value - low) / span * (HEIGHT - 2 * PAD)
        return PAD + i * step, y if high != low else HEIGHT / 2

    coords = [xy(i, v) for i, (_, v) in enumerate(series.points)]
    path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(coords))
    dots = Markup("").join(
        Markup('<circle cx="{:.1f}" cy="{:.1f}" r="{}"><title>{} · {}</title></circle>').format(
            x,
            y,
            "2.6" if i == count - 1 else "1.6",
            _short(value),
            datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        )
        for i, ((x, y), (ts, value)) in enumerate(zip(coords, series.points, strict=True))
    )
    return Markup(
        '<svg class="sparkline" viewBox="0 0 {w:.0f} {h:.0f}" width="{w:.0f}" height="{h:.0f}" '
        'role="img" aria-label="{label}: {n} values from {low} to {high}, latest {latest}">'
        '<path d="{path}" fill="none" stroke="currentColor" stroke-width="1.6" '
        'stroke-linejoin="round"/>{dots}</svg>'
    ).format(
        w=WIDTH,
        h=HEIGHT,
        label=series.label,
        n=count,
        low=_short(low),
        high=_short(high),
        latest=_short(series.latest),
        path=path,
        dots=dots,
    )


def plots(history: Iterable[EventRecord]) -> list[dict[str, object]]:
    """What the asset page's "Metadata over time" card shows, one row per numeric label."""
    return [
        {
            "label": s.label,
            "svg": sparkline(s),
            "latest": _short(s.latest),
            "low": _short(s.low),
            "high": _short(s.high),
            "count": len(s.points),
        }
        for s in numeric_series(history)
    ]

"""The location page's health chart: its code server's memory and its load time over the last
reloads, as two small SVG line charts drawn on the server (no script, no chart library)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from bakehouse.storage.reload_records import ReloadRecord

_WIDTH, _HEIGHT = 460, 150
_LEFT, _RIGHT, _TOP, _BOTTOM = 52, 12, 14, 26


@dataclass(frozen=True)
class _Series:
    """One chart: its title, the unit its axis reads in, and a value (or None) per reload."""

    title: str
    slug: str
    unit: str
    values: list[float | None]
    color: str


def health_chart(reloads: Sequence[ReloadRecord]) -> Markup:
    """Memory (MB, right after each load) and load time (s) of `reloads`, oldest on the left;
    a failed reload is a red mark on the time axis. Empty when nothing was recorded."""
    ordered = sorted(reloads, key=lambda r: r.started_at)
    if not ordered:
        return Markup("")
    memory = _Series(
        "Memory after load",
        "memory",
        "MB",
        [r.rss_bytes / 1_000_000 if r.rss_bytes is not None else None for r in ordered],
        "var(--accent)",
    )
    load = _Series(
        "Load time",
        "load",
        "s",
        [r.load_seconds if r.load_seconds is not None else None for r in ordered],
        "var(--ok)",
    )
    failed = [not r.loaded for r in ordered]
    labels = [f"#{i + 1} {r.trigger_label}" for i, r in enumerate(ordered)]
    charts = (_chart(s, failed, labels) for s in (memory, load))
    return Markup('<div class="health-charts">{}</div>').format(Markup("").join(charts))


def _chart(series: _Series, failed: list[bool], labels: list[str]) -> Markup:
    known = [v for v in series.values if v is not None]
    top = _nice_top(max(known) if known else 1.0)
    inner_w, inner_h = _WIDTH - _LEFT - _RIGHT, _HEIGHT - _TOP - _BOTTOM
    count = len(series.values)

    def x(i: int) -> float:
        return _LEFT + (inner_w / 2 if count == 1 else inner_w * i / (count - 1))

    def y(v: float) -> float:
        return _TOP + inner_h * (1 - v / top)

    parts: list[str] = []
    for fraction in (0.0, 0.5, 1.0):  # grid lines with their values
        gy = y(top * fraction)
        parts.append(
            f'<line class="gridline" x1="{_LEFT}" x2="{_WIDTH - _RIGHT}" '
            f'y1="{gy:.1f}" y2="{gy:.1f}"/>'
            f'<text class="axis" x="{_LEFT - 6}" y="{gy + 4:.1f}" text-anchor="end">'
            f"{_fmt(top * fraction)} {series.unit}</text>"
        )
    points = [(x(i), y(v)) for i, v in enumerate(series.values) if v is not None]
    if len(points) > 1:
        line = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        parts.append(
            f'<polyline fill="none" stroke="{series.color}" stroke-width="2" points="{line}"/>'
        )
    for i, value in enumerate(series.values):
        title = escape(labels[i])
        if value is not None:
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="3.5" fill="{series.color}">'
                f"<title>{title}: {_fmt(value)} {series.unit}</title></circle>"
            )
        if failed[i]:
            parts.append(
                f'<rect class="failed-mark" x="{x(i) - 4:.1f}" y="{_TOP + inner_h - 4:.1f}" '
                f'width="8" height="8"><title>{title}: failed to load</title></rect>'
            )
    parts.append(
        f'<text class="axis" x="{_LEFT}" y="{_HEIGHT - 6}">oldest</text>'
        f'<text class="axis" x="{_WIDTH - _RIGHT}" y="{_HEIGHT - 6}" text-anchor="end">'
        f"latest ({count} reload{'' if count == 1 else 's'})</text>"
    )
    return Markup(
        '<figure class="health-chart" data-chart="{slug}"><figcaption>{title}</figcaption>'
        '<svg viewBox="0 0 {w} {h}" role="img" aria-label="{title} over the last reloads">'
        "{body}</svg></figure>"
    ).format(slug=series.slug, title=series.title, w=_WIDTH, h=_HEIGHT, body=Markup("".join(parts)))


def _nice_top(value: float) -> float:
    """The axis's top: `value` rounded up to 1, 2 or 5 times a power of ten."""
    if value <= 0:
        return 1.0
    scale = 10 ** _floor_log10(value)
    for step in (1, 2, 5, 10):
        if value <= step * scale:
            return float(step * scale)
    return float(10 * scale)


def _floor_log10(value: float) -> int:
    exponent = 0
    while value >= 10:
        value /= 10
        exponent += 1
    while value < 1:
        value *= 10
        exponent -= 1
    return exponent


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    if value >= 10:
        return f"{value:.0f}"
    return f"{value:.1f}" if value >= 1 else f"{value:.2f}"

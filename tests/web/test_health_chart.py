"""`web.health_chart`: one point per reload on each chart, oldest first, failed reloads marked,
an axis that reads in round numbers."""

from __future__ import annotations

import re

from bakehouse.storage.reload_records import ReloadRecord
from bakehouse.web.health_chart import health_chart


def _reload(
    at: float, *, rss: int | None, seconds: float | None, loaded: bool = True
) -> ReloadRecord:
    return ReloadRecord(
        location="bakery",
        started_at=at,
        trigger="api",
        loaded=loaded,
        rss_bytes=rss,
        load_seconds=seconds,
    )


def test_each_reload_is_a_point_and_a_failed_one_a_red_mark() -> None:
    reloads = [
        _reload(3.0, rss=None, seconds=None, loaded=False),
        _reload(1.0, rss=30_000_000, seconds=0.4),
        _reload(2.0, rss=42_000_000, seconds=1.3),
    ]
    svg = str(health_chart(reloads))
    memory, load = svg.split('data-chart="load"')
    assert memory.count("<circle") == 2
    assert load.count("<circle") == 2
    assert memory.count('class="failed-mark"') == 1
    # Oldest first: the 30 MB point is left of the 42 MB one, and the axis tops at 50 MB.
    xs = [float(x) for x in re.findall(r'<circle cx="([\d.]+)"', memory)]
    assert xs == sorted(xs)
    assert "50 MB</text>" in memory
    assert "2.0 s</text>" in load
    assert "#3 API: failed to load" in memory
    assert "latest (3 reloads)" in svg


def test_nothing_recorded_draws_nothing() -> None:
    assert str(health_chart([])) == ""

"""`web.metadata_plots`: numeric metadata of the newest materializations as SVG sparklines."""

from __future__ import annotations

from bakehouse.storage import EventRecord, EventType
from bakehouse.web.metadata_plots import numeric_series, plots, sparkline


def _materialization(when: float, metadata: dict[str, object]) -> EventRecord:
    return EventRecord(
        run_id="r",
        event_type=EventType.ASSET_MATERIALIZATION,
        timestamp=when,
        asset_key="orders",
        data={"metadata": metadata},
    )


def _int(value: int) -> dict[str, object]:
    return {"type": "int", "value": value}


HISTORY = [  # newest first, as storage reads it
    _materialization(3.0, {"rows": _int(30), "note": {"type": "text", "value": "x"}}),
    _materialization(2.0, {"rows": _int(10), "ms": {"type": "float", "value": 1.5}}),
    _materialization(1.0, {"rows": _int(20), "flag": {"type": "bool", "value": True}}),
]


def test_each_numeric_label_seen_twice_becomes_a_series_oldest_first() -> None:
    (rows,) = numeric_series(HISTORY)
    assert rows.label == "rows"
    assert rows.points == ((1.0, 20.0), (2.0, 10.0), (3.0, 30.0))
    assert (rows.low, rows.high, rows.latest) == (10.0, 30.0, 30.0)


def test_the_sparkline_puts_the_highest_value_at_the_top_and_says_each_value() -> None:
    (rows,) = numeric_series(HISTORY)
    svg = str(sparkline(rows))
    assert svg.startswith('<svg class="sparkline"')
    assert 'aria-label="rows: 3 values from 10 to 30, latest 30"' in svg
    assert "M4.0,22.0 L120.0,40.0 L236.0,4.0" in svg  # 20 mid, 10 bottom, 30 top
    assert "<title>30 · 1970-01-01 00:00 UTC</title>" in svg
    (row,) = plots(HISTORY)
    assert (row["latest"], row["low"], row["high"], row["count"]) == ("30", "10", "30", 3)


def test_labels_are_escaped() -> None:
    history = [
        _materialization(2.0, {"<b>": {"type": "int", "value": 1}}),
        _materialization(1.0, {"<b>": {"type": "int", "value": 1}}),
    ]
    (row,) = plots(history)
    assert "<b>" not in str(row["svg"])
    assert "&lt;b&gt;" in str(row["svg"])

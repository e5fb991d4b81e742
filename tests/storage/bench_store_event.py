"""Measures what storing events costs (a quick script, not a test: timings vary by machine).

    .venv/bin/python tests/storage/bench_store_event.py [URL]

Without a URL it uses a SQLite file in a temporary folder. A step writes STEP_START,
ASSET_MATERIALIZATION, STEP_OUTPUT and STEP_SUCCESS; the target is under 5 ms per step.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from bakehouse.storage import EventRecord, EventType, Instance, RunRecord

STEPS = 500
STEP_EVENTS = (
    EventType.STEP_START,
    EventType.ASSET_MATERIALIZATION,
    EventType.STEP_OUTPUT,
    EventType.STEP_SUCCESS,
)


def _step_events(run_id: str, step: int) -> list[EventRecord]:
    key = f"asset_{step % 50}"
    return [
        EventRecord(
            run_id=run_id,
            event_type=event_type,
            timestamp=time.time(),
            step_key=key,
            asset_key=key,
            message=f"{event_type.value} for {key}",
            data={"metadata": {"rows": {"type": "int", "value": step}}}
            if event_type is EventType.ASSET_MATERIALIZATION
            else {},
        )
        for event_type in STEP_EVENTS
    ]


def bench(instance: Instance) -> None:
    """Print per-event and per-step costs of store_event, and of store_events per step."""
    instance.create_run(RunRecord(run_id="bench-warmup"))
    for event in _step_events("bench-warmup", 0):
        instance.store_event(event)

    instance.create_run(RunRecord(run_id="bench-single"))
    per_event: list[float] = []
    start = time.perf_counter()
    for step in range(STEPS):
        for event in _step_events("bench-single", step):
            t0 = time.perf_counter()
            instance.store_event(event)
            per_event.append(time.perf_counter() - t0)
    single = time.perf_counter() - start

    instance.create_run(RunRecord(run_id="bench-batch"))
    start = time.perf_counter()
    for step in range(STEPS):
        instance.store_events(_step_events("bench-batch", step))
    batch = time.perf_counter() - start

    per_event.sort()
    ms = 1000.0
    print(f"{instance!r}")
    print(
        f"store_event: {STEPS * len(STEP_EVENTS)} events, "
        f"mean {statistics.fmean(per_event) * ms:.3f} ms, "
        f"median {per_event[len(per_event) // 2] * ms:.3f} ms, "
        f"p99 {per_event[int(len(per_event) * 0.99)] * ms:.3f} ms per event; "
        f"{single / STEPS * ms:.3f} ms per step"
    )
    print(f"store_events (one transaction per step): {batch / STEPS * ms:.3f} ms per step")


def main() -> None:
    """Benchmark the URL given, or a temporary SQLite file."""
    if len(sys.argv) > 1:
        with (
            tempfile.TemporaryDirectory() as files,
            Instance.open(sys.argv[1], storage_dir=Path(files)) as instance,
        ):
            bench(instance)
        return
    with tempfile.TemporaryDirectory() as home, Instance.for_home(Path(home)) as instance:
        bench(instance)


if __name__ == "__main__":
    main()

"""A separate process that uses storage the way the daemon does, for the multi-process tests.

The daemon's schedules, sensors and backfills all claim work through storage; this races them.

Run as ``python instigator_process.py COMMAND URL STORAGE_DIR NAME START_AT COUNT FIRST``. It
opens the instance, waits until the time START_AT (so that several processes race), does COUNT
attempts numbered 0 … COUNT-1, starting at number FIRST and wrapping around (so that racing
processes start apart and run into each other), and prints, as one JSON list in number order,
what each attempt answered. Commands:

- ``claim-run-keys``: claims run keys ``key-0`` … of origin ``loc:sensor`` for runs
  ``NAME-0`` …; prints what each claim returned (None when this process claimed the key).
- ``create-schedule-ticks``: creates the ticks of schedule ``loc:daily`` at times 0 …; prints
  each created tick's id, or None when the tick was taken.
- ``create-sensor-ticks``: creates COUNT ticks of sensor ``loc:sensor``, all at time 1.0;
  prints their ids.
- ``claim-backfill-partitions``: claims partitions ``p-0`` … of backfill ``bf`` (which the
  test created) one call each, for runs ``NAME-0`` …; prints what each claim returned ({} when
  this process recorded the partition, else the earlier claim).
- ``claim-backfill-ranges``: attempt i claims the range ``p-i`` … ``p-(i+4)`` (clipped to
  COUNT) of backfill ``bf`` for run ``NAME-i`` in one call; prints what each claim returned.
- ``count-in-cursor``: adds one to the number in the cursor of sensor ``loc:sensor`` (stored
  RUNNING with cursor "1" by the first change, when there is no state yet), one
  `update_instigator_state` each; prints each stored cursor.
- ``claim-and-hang``: claims ``key-0`` of ``loc:sensor`` for run ``NAME-0`` and creates the tick
  of ``loc:daily`` at time 0, prints ``ready`` once both are committed and waits to be killed,
  the way a daemon killed before launching its run would.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from bakehouse.serdes import replace
from bakehouse.storage import (
    Instance,
    InstigatorState,
    InstigatorStatus,
    InstigatorType,
    TickRecord,
)

SENSOR = "loc:sensor"
SCHEDULE = "loc:daily"


BACKFILL = "bf"
RANGE = 5


def _count(stored: InstigatorState | None) -> InstigatorState:
    if stored is None:
        return InstigatorState(origin=SENSOR, name="sensor", location="loc",
                               type=InstigatorType.SENSOR, status=InstigatorStatus.RUNNING,
                               cursor="1")  # fmt: skip
    return replace(stored, cursor=str(int(stored.cursor or 0) + 1))


def _attempt(instance: Instance, command: str, name: str, i: int, count: int) -> Any:
    if command == "claim-run-keys":
        return instance.claim_run_key(SENSOR, f"key-{i}", f"{name}-{i}")
    if command == "claim-backfill-partitions":
        return instance.claim_backfill_partitions(BACKFILL, [f"p-{i}"], f"{name}-{i}")
    if command == "claim-backfill-ranges":
        keys = [f"p-{k}" for k in range(i, min(i + RANGE, count))]
        return instance.claim_backfill_partitions(BACKFILL, keys, f"{name}-{i}")
    if command == "count-in-cursor":
        return instance.update_instigator_state(SENSOR, _count).cursor
    if command == "create-schedule-ticks":
        tick = TickRecord(origin=SCHEDULE, type=InstigatorType.SCHEDULE, tick_at=float(i))
    elif command == "create-sensor-ticks":
        tick = TickRecord(origin=SENSOR, type=InstigatorType.SENSOR, tick_at=1.0)
    else:
        raise SystemExit(f"unknown command {command}")
    created = instance.create_tick(tick)
    return None if created is None else created.tick_id


def main(
    command: str, url: str, storage_dir: str, name: str, start_at: str, count: str, first: str
) -> None:
    """Run `command` (see the module docstring)."""
    instance = Instance.open(url, storage_dir=Path(storage_dir))
    time.sleep(max(0.0, float(start_at) - time.time()))
    if command == "claim-and-hang":
        instance.claim_run_key(SENSOR, "key-0", f"{name}-0")
        instance.create_tick(TickRecord(origin=SCHEDULE, type=InstigatorType.SCHEDULE, tick_at=0.0))
        print("ready", flush=True)
        # Deliberately no close(): the test kills this process the way a crash would.
        time.sleep(600)
    numbers = [(int(first) + n) % int(count) for n in range(int(count))]
    answers = {i: _attempt(instance, command, name, i, int(count)) for i in numbers}
    print(json.dumps([answers[i] for i in sorted(answers)]), flush=True)
    instance.close()


if __name__ == "__main__":
    main(*sys.argv[1:])

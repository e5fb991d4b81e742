"""A separate process that adds dynamic partition keys, for the race test.

Run as ``python dynamic_partitions_process.py add URL STORAGE_DIR NAME START_AT COUNT FIRST``
(the arguments of `racing.start`). It opens the instance, waits until START_AT, then makes COUNT
calls numbered from FIRST, wrapping around: call i adds, in one call, the shared keys ``k-i`` and
``k-(i+1)`` (which other processes add too, in another order) and its own key ``NAME-i``. It
prints the numbers of its calls in the order it made them, as one JSON list.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from bakehouse.storage import Instance

DEFINITION = "fruits"


def main(
    command: str, url: str, storage_dir: str, name: str, start_at: str, count: str, first: str
) -> None:
    """Run `command` (see the module docstring)."""
    if command != "add":
        raise SystemExit(f"unknown command {command}")
    instance = Instance.open(url, storage_dir=Path(storage_dir))
    time.sleep(max(0.0, float(start_at) - time.time()))
    numbers = [(int(first) + n) % int(count) for n in range(int(count))]
    for i in numbers:
        instance.add_dynamic_partitions(DEFINITION, [f"k-{i}", f"k-{i + 1}", f"{name}-{i}"])
    print(json.dumps(numbers), flush=True)
    instance.close()


if __name__ == "__main__":
    main(*sys.argv[1:])

"""A separate process that uses storage the way a run worker does, for the multi-process tests.

Run as ``python storage_process.py COMMAND URL STORAGE_DIR RUN_ID [ARG]``; it prints ``ready``
once its work is committed. Commands:

- ``write-log``: RUN_START, ARG LOG events a few milliseconds apart, then RUN_SUCCESS.
- ``finish-and-hang``: a whole run with a materialization, committed; then it waits to be killed.
- ``materialize``: a whole run (RUN_START, a materialization of asset ARG, RUN_SUCCESS); then exits.
- ``open-at``: waits until the time ARG (so that several processes open a fresh file at once),
  opens the instance and creates run RUN_ID.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from bakehouse.storage import EventRecord, EventType, Instance, RunRecord


def _event(run_id: str, event_type: EventType, **fields: Any) -> EventRecord:
    return EventRecord(run_id=run_id, event_type=event_type, timestamp=time.time(), **fields)


def main(command: str, url: str, storage_dir: str, run_id: str, arg: str = "") -> None:
    """Run `command` (see the module docstring)."""
    if command == "open-at":
        time.sleep(max(0.0, float(arg) - time.time()))
    instance = Instance.open(url, storage_dir=Path(storage_dir))
    if command == "write-log":
        instance.store_event(_event(run_id, EventType.RUN_START))
        for i in range(int(arg)):
            instance.store_event(_event(run_id, EventType.LOG, message=f"line {i}"))
            time.sleep(0.003)
        instance.store_event(_event(run_id, EventType.RUN_SUCCESS))
    elif command == "finish-and-hang":
        instance.create_run(RunRecord(run_id=run_id))
        instance.store_event(_event(run_id, EventType.RUN_START))
        instance.store_event(
            _event(
                run_id,
                EventType.ASSET_MATERIALIZATION,
                asset_key="durable",
                data={"metadata": {"rows": {"type": "int", "value": 42}}},
            )
        )
        instance.store_event(_event(run_id, EventType.RUN_SUCCESS))
    elif command == "open-at":
        instance.create_run(RunRecord(run_id=run_id))
    elif command == "materialize":
        instance.create_run(RunRecord(run_id=run_id, asset_selection=(arg,)))
        instance.store_event(_event(run_id, EventType.RUN_START))
        instance.store_event(_event(run_id, EventType.ASSET_MATERIALIZATION, asset_key=arg))
        instance.store_event(_event(run_id, EventType.RUN_SUCCESS))
    else:
        raise SystemExit(f"unknown command {command}")
    print("ready", flush=True)
    if command == "finish-and-hang":
        # Deliberately no close(): the test kills this process the way a crash would.
        time.sleep(600)
    instance.close()


if __name__ == "__main__":
    main(*sys.argv[1:])

"""Runs inside one tool's bench venv for bench/partitions_bench.py; prints one JSON object.

    python partitions_probe.py setup TOOL           # write the statuses (untimed)
    python partitions_probe.py first TOOL           # time the first status query after them
    python partitions_probe.py query TOOL [MODE]    # time a status query in a warm process

TOOL is bakehouse or dagster.

The instance is the one ``BAKEHOUSE_HOME`` / ``DAGSTER_HOME`` names. The asset is ``parts_10k``
of the generated project ``bench_parts``: daily partitions from 1990-01-01, 10,000 of them. Its
statuses are written straight into storage through each tool's own storage API, as 95 runs
of 100 partitions would leave them (one ASSET_MATERIALIZATION_PLANNED per partition, then a
materialization per partition for 90 successful runs, or a failure for 5 failed ones):

- every 20th partition (i % 20 == 0) is missing: no run ever touched it;
- the next one (i % 20 == 1) failed: 500;
- the other 9,000 are materialized.

So the states alternate along the whole range, about 1,000 changes of state (a worst case
for a status bar, which merges consecutive partitions of one state).

``query`` computes every key of the definition and the status of each (missing included)
once untimed, then once more timed, and prints the seconds of the timed call: that is what a
UI or CLI does to show the status of all partitions of the asset in a warm process.
bakehouse: ``DailyPartitionsDefinition.get_partition_keys()`` and ``Instance
.get_partition_status``. Dagster: the same definition's keys and ``DagsterInstance
.get_status_by_partition`` (its partition status cache: the first call after new events
brings the cache up to date, later calls read it). That public call tests each key against
the cached subsets one by one; MODE ``subsets`` instead times what Dagster's GraphQL resolvers
do (private API: bring the cache up to date, turn its materialized and failed subsets into key
sets once). bakehouse has one call for both modes.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ASSET = "parts_10k"
START_DATE = "1990-01-01"
END_DATE = "2017-05-19"  # exclusive: 10,000 daily partitions from START_DATE
TOTAL = 10_000
PER_RUN = 100


def expected_state(index: int) -> str:
    """The state the setup gives the `index`-th partition (oldest first)."""
    if index % 20 == 0:
        return "missing"
    if index % 20 == 1:
        return "failed"
    return "materialized"


def expected_counts() -> dict[str, int]:
    counts = {"materialized": 0, "failed": 0, "in_progress": 0, "missing": 0}
    for i in range(TOTAL):
        counts[expected_state(i)] += 1
    return counts


def runs_of(keys: list[str]) -> list[tuple[list[str], bool]]:
    """(the partitions of one run, whether it succeeded): runs of PER_RUN partitions each."""
    done = [k for i, k in enumerate(keys) if expected_state(i) == "materialized"]
    failed = [k for i, k in enumerate(keys) if expected_state(i) == "failed"]
    return [(done[i : i + PER_RUN], True) for i in range(0, len(done), PER_RUN)] + [
        (failed[i : i + PER_RUN], False) for i in range(0, len(failed), PER_RUN)
    ]


def count(states: dict[str, str | None], keys: list[str]) -> dict[str, int]:
    counts = {"materialized": 0, "failed": 0, "in_progress": 0, "missing": 0}
    for key in keys:
        counts[states.get(key) or "missing"] += 1
    return counts


# --------------------------------------------------------------------------- bakehouse


def bakehouse_keys() -> list[str]:
    import bakehouse as dg

    daily = dg.DailyPartitionsDefinition(start_date=START_DATE, end_date=END_DATE)
    return list(daily.get_partition_keys())


def bakehouse_instance() -> Any:
    from bakehouse.storage import Instance

    return Instance.from_env(Path.cwd() / ".bakehouse")


def bakehouse_setup() -> None:
    from bakehouse.storage import EventRecord, EventType, RunRecord

    instance = bakehouse_instance()
    keys = bakehouse_keys()
    now = time.time()

    def event(run_id: str, kind: EventType, **fields: Any) -> EventRecord:
        return EventRecord(run_id=run_id, event_type=kind, timestamp=now, **fields)

    for chunk, ok in runs_of(keys):
        run_id = str(uuid.uuid4())
        instance.create_run(RunRecord(run_id=run_id, asset_selection=(ASSET,), created_at=now))
        events = [event(run_id, EventType.RUN_START)]
        events += [
            event(
                run_id,
                EventType.ASSET_MATERIALIZATION_PLANNED,
                asset_key=ASSET,
                partition_key=key,
                step_key=ASSET,
            )
            for key in chunk
        ]
        if ok:
            events += [
                event(
                    run_id,
                    EventType.ASSET_MATERIALIZATION,
                    asset_key=ASSET,
                    partition_key=key,
                    step_key=ASSET,
                )
                for key in chunk
            ]
            events.append(event(run_id, EventType.RUN_SUCCESS))
        else:
            events.append(event(run_id, EventType.STEP_FAILURE, step_key=ASSET))
            events.append(event(run_id, EventType.RUN_FAILURE))
        instance.store_events(events)


def bakehouse_query(instance: Any) -> tuple[list[str], dict]:
    keys = bakehouse_keys()
    stored = instance.get_partition_status(ASSET)
    states = {k: stored[k].value.lower() if k in stored else None for k in keys}
    return keys, states


# --------------------------------------------------------------------------- Dagster


def dagster_definition() -> Any:
    import dagster as dg

    return dg.DailyPartitionsDefinition(start_date=START_DATE, end_date=END_DATE)


def _sqlite_without_fsync() -> None:
    """Setup only (untimed): Dagster's SQLite storage commits each event on its own, in a
    file per run plus an index file, and waited for the disk about 3 of its 5 minutes here."""
    import sqlalchemy

    def no_sync(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA synchronous=OFF")

    sqlalchemy.event.listen(sqlalchemy.engine.Engine, "connect", no_sync)


def dagster_setup() -> None:
    import dagster as dg
    from dagster._core.events import (
        AssetMaterializationPlannedData,
        DagsterEvent,
        DagsterEventType,
        StepMaterializationData,
    )

    _sqlite_without_fsync()
    instance = dg.DagsterInstance.get()
    keys = list(dagster_definition().get_partition_keys())
    asset_key = dg.AssetKey(ASSET)
    job = "__ASSET_JOB"
    for chunk, ok in runs_of(keys):
        run_id = str(uuid.uuid4())
        status = dg.DagsterRunStatus.SUCCESS if ok else dg.DagsterRunStatus.FAILURE
        instance.add_run(dg.DagsterRun(job_name=job, run_id=run_id, status=status))
        for key in chunk:
            instance.report_dagster_event(
                DagsterEvent(
                    DagsterEventType.ASSET_MATERIALIZATION_PLANNED.value,
                    job_name=job,
                    event_specific_data=AssetMaterializationPlannedData(asset_key, partition=key),
                ),
                run_id=run_id,
            )
        if ok:
            for key in chunk:
                instance.report_dagster_event(
                    DagsterEvent(
                        DagsterEventType.ASSET_MATERIALIZATION.value,
                        job_name=job,
                        step_key=ASSET,
                        event_specific_data=StepMaterializationData(
                            dg.AssetMaterialization(asset_key=asset_key, partition=key)
                        ),
                    ),
                    run_id=run_id,
                )


STATE_OF_DAGSTER = {
    "MATERIALIZED": "materialized",
    "FAILED": "failed",
    "IN_PROGRESS": "in_progress",
}


def dagster_query(instance: Any) -> tuple[list[str], dict]:
    import dagster as dg

    partitions_def = dagster_definition()
    keys = list(partitions_def.get_partition_keys())
    found = instance.get_status_by_partition(dg.AssetKey(ASSET), keys, partitions_def) or {}
    states = {k: STATE_OF_DAGSTER[s.value] if s else None for k, s in found.items()}
    return keys, states


def dagster_query_subsets(instance: Any) -> tuple[list[str], dict]:
    import dagster as dg
    from dagster._core.storage.partition_status_cache import (
        get_and_update_asset_status_cache_value,
    )

    partitions_def = dagster_definition()
    keys = list(partitions_def.get_partition_keys())
    cached = get_and_update_asset_status_cache_value(instance, dg.AssetKey(ASSET), partitions_def)
    if cached is None:
        return keys, {}
    done = set(
        cached.deserialize_materialized_partition_subsets(partitions_def).get_partition_keys()
    )
    failed = set(cached.deserialize_failed_partition_subsets(partitions_def).get_partition_keys())
    running = set(
        cached.deserialize_in_progress_partition_subsets(partitions_def).get_partition_keys()
    )
    states: dict[str, str | None] = {}
    for key in keys:
        if key in running:
            states[key] = "in_progress"
        elif key in failed:
            states[key] = "failed"
        else:
            states[key] = "materialized" if key in done else None
    return keys, states


# --------------------------------------------------------------------------- main


def main() -> None:
    action, tool = sys.argv[1], sys.argv[2]
    mode = sys.argv[3] if len(sys.argv) > 3 else "public"
    if tool == "bakehouse":
        setup, query = bakehouse_setup, bakehouse_query

        def instance() -> Any:
            return bakehouse_instance()
    elif tool == "dagster":
        import dagster as dg

        setup = dagster_setup
        query = dagster_query_subsets if mode == "subsets" else dagster_query

        def instance() -> Any:
            return dg.DagsterInstance.get()
    else:
        raise SystemExit(f"unknown tool {tool!r}")
    out: dict[str, Any] = {}
    if action == "setup":
        started = time.perf_counter()
        setup()
        print(json.dumps({"setup_s": time.perf_counter() - started}))
        return
    if action not in ("first", "query"):
        raise SystemExit(f"unknown action {action!r}")
    inst = instance()
    if action == "query":
        query(inst)  # warm: imports, connections, caches (Dagster: its status cache too)
    started = time.perf_counter()
    keys, states = query(inst)
    out["seconds"] = time.perf_counter() - started
    out["total"] = len(keys)
    out["counts"] = count(states, keys)
    out["expected"] = expected_counts()
    print(json.dumps(out))


if __name__ == "__main__":
    main()

"""`Instance.get_asset_check_history`: the newest check results of one asset across runs, on
every backend; what the asset page reads each check's latest result from."""

from __future__ import annotations

from typing import Any

from bakehouse.storage import Instance
from bakehouse.storage.records import EventRecord, EventType, RunRecord


def _event(run_id: str, event_type: EventType, timestamp: float, **fields: Any) -> EventRecord:
    return EventRecord(run_id=run_id, event_type=event_type, timestamp=timestamp, **fields)


def _evaluation(run_id: str, asset_key: str, name: str, passed: bool, at: float) -> EventRecord:
    return _event(
        run_id,
        EventType.ASSET_CHECK_EVALUATION,
        at,
        asset_key=asset_key,
        step_key=f"{asset_key}_{name}",
        data={"check_name": name, "passed": passed, "severity": "ERROR", "metadata": {}},
    )


def test_the_newest_results_come_first_across_runs(instance: Instance) -> None:
    for run_id in ("r1", "r2"):
        instance.create_run(RunRecord(run_id=run_id))
    instance.store_events(
        [
            _evaluation("r1", "orders", "has_rows", True, 1.0),
            _evaluation("r1", "customers", "has_rows", False, 1.5),
            _event("r1", EventType.STEP_FAILURE, 1.7, step_key="orders"),  # an asset's failure
            _evaluation("r2", "orders", "has_rows", False, 2.0),
            _event(
                "r2",
                EventType.STEP_FAILURE,
                3.0,
                step_key="orders_fresh",
                asset_key="orders",
                data={"check_names": ["fresh"], "error": {"message": "boom"}},
            ),
            _event("r2", EventType.ASSET_MATERIALIZATION, 4.0, asset_key="orders"),
        ]
    )
    history = instance.get_asset_check_history("orders")
    assert [(e.run_id, e.event_type, e.step_key) for e in history] == [
        ("r2", EventType.STEP_FAILURE, "orders_fresh"),
        ("r2", EventType.ASSET_CHECK_EVALUATION, "orders_has_rows"),
        ("r1", EventType.ASSET_CHECK_EVALUATION, "orders_has_rows"),
    ]
    assert [e.data["passed"] for e in history[1:]] == [False, True]
    assert len(instance.get_asset_check_history("orders", limit=1)) == 1
    assert instance.get_asset_check_history("nothing") == []


def test_the_histories_of_many_assets_are_read_at_once(instance: Instance) -> None:
    instance.create_run(RunRecord(run_id="r1"))
    events = [_evaluation("r1", "orders", "has_rows", i % 2 == 0, float(i)) for i in range(5)]
    events += [
        _evaluation("r1", "customers", "unique", True, 10.0),
        _event("r1", EventType.ASSET_MATERIALIZATION, 11.0, asset_key="customers"),
    ]
    instance.store_events(events)
    many = instance.get_asset_check_histories(["orders", "customers", "nothing"], limit=3)
    assert set(many) == {"orders", "customers"}
    # Newest first, at most `limit` of each asset, and the same events as one asset's read.
    assert [e.timestamp for e in many["orders"]] == [4.0, 3.0, 2.0]
    assert many["orders"] == instance.get_asset_check_history("orders", limit=3)
    assert [e.data["check_name"] for e in many["customers"]] == ["unique"]


def test_many_assets_are_read_in_chunks(instance: Instance) -> None:
    instance.create_run(RunRecord(run_id="r1"))
    keys = [f"asset_{i:04d}" for i in range(1_200)]
    instance.store_events([_evaluation("r1", k, "ok", True, 1.0) for k in keys])
    many = instance.get_asset_check_histories(keys, limit=1)
    assert sorted(many) == keys

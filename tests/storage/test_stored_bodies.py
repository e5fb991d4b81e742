"""Bodies written by earlier versions still decode, and decoding failures name their row.

`bodies_v0.json` holds rows as the hand-written codec before `bakehouse.serdes` stored them
(keys in another order, no `storage_id`/`tick_id`/`partition_runs` in bodies, a run whose tags
were not all text).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bakehouse.errors import StorageError
from bakehouse.storage import codec
from bakehouse.storage.records import (
    BackfillRecord,
    BackfillStatus,
    EventRecord,
    EventType,
    InstigatorState,
    InstigatorStatus,
    InstigatorType,
    RunRecord,
    RunStatus,
    TickRecord,
    TickStatus,
)

ROWS: dict[str, list[dict[str, Any]]] = json.loads(
    (Path(__file__).parent / "bodies_v0.json").read_text()
)


def _bodies(table: str) -> dict[Any, str]:
    return {row["key"]: row["body"] for row in ROWS[table]}


def test_runs_stored_before_decode_with_every_field() -> None:
    runs = {key: codec.run_from_body(body) for key, body in _bodies("runs").items()}

    r1 = runs["r1"]
    assert (r1.status, r1.asset_selection, r1.job_name) == (
        RunStatus.STARTED,
        ("a", "b/c"),
        "j",
    )
    assert r1.run_config == {"ops": {"a": {"config": {"n": 1}}}}
    assert r1.tags == {"team": "web", "bakehouse/backfill": "bf1"}
    assert (r1.created_at, r1.started_at, r1.partition_key) == (
        1700000000.5,
        1700000002.0,
        "2024-01-01",
    )
    assert runs["r2"].partition_range == ("2024-01-01", "2024-01-03")
    # Tags that were not text read as their str(), the text the run_tags index holds.
    assert runs["r3"].tags == {"attempt": "2", "flag": "True"}


def test_events_stored_before_decode_with_their_row_id() -> None:
    events = [codec.event_from_row(key, body) for key, body in _bodies("event_logs").items()]

    assert [(e.storage_id, e.event_type) for e in events] == [
        (1, EventType.RUN_START),
        (2, EventType.ASSET_MATERIALIZATION),
        (3, EventType.STEP_FAILURE),
    ]
    assert events[1].data == {"metadata": {"rows": {"type": "int", "value": 3}}}
    assert (events[1].asset_key, events[1].partition_key) == ("a", "2024-01-01")
    assert events[2].level == "ERROR"
    assert events[2].data["error"]["message"] == "ValueError: bad"


def test_schedule_and_sensor_state_and_ticks_stored_before_decode() -> None:
    states = [codec.instigator_from_body(body) for body in _bodies("instigators").values()]
    ticks = [codec.tick_from_row(key, body) for key, body in _bodies("ticks").items()]

    assert states[0] == InstigatorState(
        origin="loc:daily",
        name="daily",
        location="loc",
        type=InstigatorType.SCHEDULE,
        status=InstigatorStatus.RUNNING,
        last_tick_at=1700000000.0,
        updated_at=states[0].updated_at,
    )
    assert (states[1].type, states[1].status, states[1].cursor) == (
        InstigatorType.SENSOR,
        InstigatorStatus.STOPPED,
        "c1",
    )
    assert [(t.tick_id, t.status, t.run_ids, t.run_keys) for t in ticks] == [
        (1, TickStatus.SUCCESS, ("r1",), ("k1",)),
        (2, TickStatus.FAILURE, (), ()),
    ]
    assert isinstance(ticks[1], TickRecord)
    assert ticks[1].error is not None
    assert ticks[1].error["cls_name"] == "ValueError"


def test_backfills_stored_before_decode_with_their_claims() -> None:
    (body,) = _bodies("backfills").values()
    claims = {"2024-01-01": "r1"}

    backfill = codec.backfill_from_body(body, claims)

    assert isinstance(backfill, BackfillRecord)
    assert backfill.status is BackfillStatus.REQUESTED
    assert backfill.partition_keys == ("2024-01-01", "2024-01-02")
    assert (backfill.max_partitions_per_run, backfill.unpartitioned_before) == (2, ("u",))
    assert (backfill.status_message, backfill.partition_runs) == ("waiting", claims)


def test_a_body_written_now_decodes_to_the_same_record() -> None:
    run = RunRecord(run_id="r", asset_selection=("a",), tags={"k": "v"}, created_at=1.0)
    tick = TickRecord(origin="o", type=InstigatorType.SENSOR, tick_at=2.0, tick_id=7)

    assert codec.run_from_body(codec.run_to_row(run)["body"]) == run
    assert codec.tick_from_row(7, codec.tick_to_row(tick)["body"]) == tick


@pytest.mark.parametrize(
    ("body", "fault"),
    [
        ("{not json", "corrupt event record 42: JSON is malformed"),
        ('{"run_id":"r","event_type":"NOPE","timestamp":1}', "corrupt event record 42: Invalid"),
        ('{"run_id":"r","timestamp":1}', "missing required field `event_type`"),
        ('{"run_id":"r","event_type":"LOG","timestamp":"noon"}', "at `$.timestamp`"),
        ("[1, 2]", "corrupt event record 42: Expected `object`"),
    ],
)
def test_a_body_that_is_not_its_record_is_a_storage_error_naming_the_row(
    body: str, fault: str
) -> None:
    with pytest.raises(StorageError) as caught:
        codec.event_from_row(42, body)

    assert fault in str(caught.value)


def test_values_of_subclassed_json_types_are_stored_as_json_writes_them() -> None:
    class Key(str):
        pass

    event = EventRecord(
        run_id="r",
        event_type=EventType.LOG,
        timestamp=1.0,
        data={"key": Key("a|b"), "keys": {Key("x")}, "pair": ("a", 1)},
    )

    body = codec.event_to_row(event)["body"]

    assert json.loads(body)["data"] == {"key": "a|b", "keys": ["x"], "pair": ["a", 1]}


def test_a_value_json_cannot_express_is_a_storage_error() -> None:
    event = EventRecord(run_id="r", event_type=EventType.LOG, timestamp=1.0, data={"x": object()})

    with pytest.raises(StorageError, match=r"not JSON-serializable: .*object"):
        codec.event_to_row(event)

"""Snapshots survive the codec, and snapshots written by older code servers still decode.

`snapshot_v1_*.json` were written by the protocol-1 codec (before `bakehouse.serdes`): a
"__type__" tag on every object and one partitions class with every field of every kind.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bakehouse.errors import ErrorInfo, ProtocolError
from bakehouse.protocol import snapshot

HERE = Path(__file__).parent
DAILY = snapshot.TimeWindowPartitionsSnap(
    cron_schedule="0 0 * * *",
    start="2024-01-01T00:00:00+01:00",
    timezone="Europe/Berlin",
    fmt="%Y-%m-%d",
    schedule_type="DAILY",
)


def test_a_protocol_1_location_snapshot_decodes_into_the_kinds_of_partitions() -> None:
    decoded = snapshot.loads((HERE / "snapshot_v1_location.json").read_text())

    assert isinstance(decoded, snapshot.LocationSnap)
    assert (decoded.name, decoded.load_seconds) == ("shop", 0.25)
    nodes = {a.key: a for a in decoded.assets}
    visits = nodes["visits"]
    assert visits.partitions == DAILY
    assert visits.backfill_policy == snapshot.BackfillPolicySnap(max_partitions_per_run=7)
    assert (visits.group, visits.kinds, visits.owners) == ("web", ("python",), ("a@b.c",))
    assert visits.metadata == {"rows": {"type": "int", "value": 3}}
    assert nodes["orders"].partitions == snapshot.MultiPartitionsSnap(
        dimensions=(
            snapshot.PartitionDimensionSnap(name="date", partitions=DAILY),
            snapshot.PartitionDimensionSnap(
                name="region", partitions=snapshot.StaticPartitionsSnap(keys=("us", "eu"))
            ),
        )
    )
    assert nodes["customer"].partitions == snapshot.DynamicPartitionsSnap(name="customers")
    assert nodes["summary"].partitions is None
    assert nodes["summary"].deps == ("visits",)
    (job,) = decoded.jobs
    assert (job.name, job.partitions) == ("daily_visits", DAILY)
    assert [s.cron_schedule for s in decoded.schedules] == ["0 1 * * *"]
    assert [(s.name, s.job_names, s.minimum_interval_seconds) for s in decoded.sensors] == [
        ("poke", ("daily_visits",), 60)
    ]
    assert [(c.name, c.asset_key, c.blocking) for c in decoded.asset_checks] == [
        ("has_rows", "summary", True)
    ]


def test_a_protocol_1_load_failure_decodes_with_its_cause() -> None:
    decoded = snapshot.loads((HERE / "snapshot_v1_failure.json").read_text())

    assert isinstance(decoded, snapshot.LoadFailure)
    assert decoded.error.message == "RuntimeError: boom"
    assert decoded.error.cause is not None
    assert decoded.error.cause.cls_name == "KeyError"
    assert "raise KeyError" in decoded.error.render()


def test_each_kind_of_partitions_is_tagged_on_the_wire_and_comes_back_as_itself() -> None:
    kinds: list[snapshot.PartitionsSnap] = [
        snapshot.StaticPartitionsSnap(keys=("a", "b")),
        DAILY,
        snapshot.DynamicPartitionsSnap(name="customers"),
        snapshot.MultiPartitionsSnap(
            dimensions=(snapshot.PartitionDimensionSnap(name="d", partitions=DAILY),)
        ),
    ]
    nodes = tuple(
        snapshot.AssetNodeSnap(key=f"a{i}", partitions=kind) for i, kind in enumerate(kinds)
    )
    text = snapshot.dumps(snapshot.LocationSnap(name="loc", assets=nodes))

    body = json.loads(text)["body"]
    assert body["__type__"] == "LocationSnap"
    assert [n["partitions"]["kind"] for n in body["assets"]] == [
        "static",
        "time_window",
        "dynamic",
        "multi",
    ]
    decoded = snapshot.loads(text)
    assert isinstance(decoded, snapshot.LocationSnap)
    assert [n.partitions for n in decoded.assets] == kinds


def test_fields_a_newer_sender_adds_are_ignored() -> None:
    envelope = json.loads(snapshot.dumps(snapshot.LocationSnap(name="loc")))
    envelope["body"]["brand_new"] = {"nested": [1, 2]}

    decoded = snapshot.loads(json.dumps(envelope))

    assert decoded == snapshot.LocationSnap(name="loc")


def test_another_protocol_version_is_refused_by_name() -> None:
    text = snapshot.dumps(snapshot.LocationSnap(name="loc")).replace('"protocol":2', '"protocol":9')

    with pytest.raises(ProtocolError, match="snapshot protocol 9 is not one of"):
        snapshot.loads(text)


@pytest.mark.parametrize(
    ("text", "fault"),
    [
        ("not json", "corrupt snapshot: JSON is malformed"),
        (
            '{"protocol":2,"body":{"__type__":"Nope"}}',
            "Invalid value 'Nope' - at `$.body.__type__`",
        ),
        (
            '{"protocol":2,"body":{"__type__":"LocationSnap","name":"x",'
            '"assets":[{"key":"a","partitions":{"kind":"weekly"}}]}}',
            "at `$.body.assets[0].partitions.kind`",
        ),
    ],
)
def test_a_malformed_snapshot_is_a_protocol_error_naming_the_place(text: str, fault: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        snapshot.loads(text)

    assert fault in str(caught.value)


def test_a_load_failure_round_trips_with_its_error() -> None:
    try:
        raise ValueError("bad")
    except ValueError as exc:
        error = ErrorInfo.from_exception(exc, trim_framework=False)
    failure = snapshot.LoadFailure(name="broken", error=error, python_version="3.11")

    assert snapshot.loads(snapshot.dumps(failure)) == failure

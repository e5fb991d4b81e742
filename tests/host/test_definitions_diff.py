"""`host.definitions_diff`: what one snapshot of a location adds, removes and changes against
another, and the summary a toast shows."""

from __future__ import annotations

from typing import Any

from bakehouse.host.definitions_diff import diff_snapshots
from bakehouse.protocol.snapshot import (
    AssetCheckSnap,
    AssetNodeSnap,
    JobSnap,
    LocationSnap,
    ResourceSnap,
    ScheduleSnap,
    SensorSnap,
    StaticPartitionsSnap,
)
from bakehouse.storage.reload_records import DefinitionChange, DefinitionsDiff, FieldChange


def _snap(**parts: Any) -> LocationSnap:
    return LocationSnap(name="bakery", **parts)


def test_identical_snapshots_differ_in_nothing() -> None:
    snap = _snap(
        assets=(AssetNodeSnap(key="dough", deps=("flour",), code_version="1"),),
        schedules=(ScheduleSnap(name="daily", cron_schedule="0 6 * * *"),),
    )
    diff = diff_snapshots(snap, snap)
    assert diff == DefinitionsDiff()
    assert diff.is_empty
    assert diff.summary() == "no changes"


def test_added_and_removed_definitions_of_every_kind_are_named() -> None:
    before = _snap(
        assets=(AssetNodeSnap(key="dough"),),
        schedules=(ScheduleSnap(name="daily"), ScheduleSnap(name="hourly")),
        sensors=(SensorSnap(name="watch"),),
        resources=(ResourceSnap(name="db", type="x.Db"),),
    )
    after = _snap(
        assets=(AssetNodeSnap(key="dough"), AssetNodeSnap(key="bread"), AssetNodeSnap(key="bun")),
        asset_checks=(AssetCheckSnap(name="not_empty", asset_key="bread"),),
        jobs=(
            JobSnap(name="bake", asset_keys=("bread",)),
            JobSnap(name="__anonymous_asset_job_daily", asset_keys=("bread",)),
        ),
        schedules=(ScheduleSnap(name="daily"),),
    )
    diff = diff_snapshots(before, after)
    assert diff.added == (
        DefinitionChange(kind="asset", name="bread"),
        DefinitionChange(kind="asset", name="bun"),
        DefinitionChange(kind="check", name="bread:not_empty"),
        DefinitionChange(kind="job", name="bake"),
    )
    assert diff.removed == (
        DefinitionChange(kind="schedule", name="hourly"),
        DefinitionChange(kind="sensor", name="watch"),
        DefinitionChange(kind="resource", name="db"),
    )
    assert diff.changed == ()
    assert diff.summary() == (
        "+2 assets, +1 check, +1 job, \u22121 schedule, \u22121 sensor, \u22121 resource"
    )


def test_changed_assets_name_each_field_with_both_values() -> None:
    before = _snap(
        assets=(
            AssetNodeSnap(
                key="dough",
                deps=("flour", "water"),
                code_version="1",
                metadata={"owner": "ann", "rows": 3},
            ),
            AssetNodeSnap(key="bread", partitions=StaticPartitionsSnap(keys=("a", "b"))),
        )
    )
    after = _snap(
        assets=(
            AssetNodeSnap(
                key="dough",
                deps=("flour", "salt"),
                code_version="2",
                metadata={"owner": "ann", "team": "bakers"},
            ),
            AssetNodeSnap(key="bread", partitions=StaticPartitionsSnap(keys=("a", "b", "c"))),
        )
    )
    diff = diff_snapshots(before, after)
    assert [(c.kind, c.name) for c in diff.changed] == [("asset", "bread"), ("asset", "dough")]
    bread, dough = diff.changed
    assert [f.field for f in bread.fields] == ["partitions"]
    assert bread.fields[0].before == '{"keys": ["a", "b"], "kind": "static"}'
    assert bread.fields[0].after == '{"keys": ["a", "b", "c"], "kind": "static"}'
    by_field = {f.field: f for f in dough.fields}
    assert list(by_field) == ["deps", "metadata", "code_version"]
    assert by_field["deps"] == FieldChange(
        field="deps",
        before='["flour", "water"]',
        after='["flour", "salt"]',
        added=("salt",),
        removed=("water",),
    )
    assert by_field["code_version"] == FieldChange(field="code_version", before="1", after="2")
    assert by_field["metadata"].added == ("team",)
    assert by_field["metadata"].removed == ("rows",)
    assert diff.summary() == "2 changed"


def test_moving_code_is_no_change_but_a_partitions_definition_dropped_is() -> None:
    before = _snap(
        assets=(
            AssetNodeSnap(
                key="dough",
                source_file="a.py",
                source_line=3,
                partitions=StaticPartitionsSnap(keys=("x",)),
            ),
        )
    )
    after = _snap(assets=(AssetNodeSnap(key="dough", source_file="b.py", source_line=40),))
    diff = diff_snapshots(before, after)
    assert diff.changed == (
        DefinitionChange(
            kind="asset",
            name="dough",
            fields=(
                FieldChange(
                    field="partitions", before='{"keys": ["x"], "kind": "static"}', after=None
                ),
            ),
        ),
    )


def test_keys_a_location_only_depends_on_are_no_definitions_of_it() -> None:
    before = _snap(assets=(AssetNodeSnap(key="dough", deps=("flour",)),))
    after = _snap(
        assets=(
            AssetNodeSnap(key="dough", deps=("flour",)),
            AssetNodeSnap(key="flour", is_undefined=True),
        )
    )
    assert diff_snapshots(before, after).is_empty


def test_schedules_sensors_jobs_and_checks_changed_say_how() -> None:
    before = _snap(
        jobs=(JobSnap(name="bake", asset_keys=("bread",), tags={"team": "a"}),),
        schedules=(ScheduleSnap(name="daily", cron_schedule="0 6 * * *", job_name="bake"),),
        sensors=(SensorSnap(name="watch", minimum_interval_seconds=30),),
        asset_checks=(AssetCheckSnap(name="ok", asset_key="bread"),),
    )
    after = _snap(
        jobs=(JobSnap(name="bake", asset_keys=("bread", "bun"), tags={"team": "a"}),),
        schedules=(ScheduleSnap(name="daily", cron_schedule="0 7 * * *", job_name="bake"),),
        sensors=(SensorSnap(name="watch", minimum_interval_seconds=60),),
        asset_checks=(AssetCheckSnap(name="ok", asset_key="bread", blocking=True),),
    )
    diff = diff_snapshots(before, after)
    assert [(c.kind, c.name, [f.field for f in c.fields]) for c in diff.changed] == [
        ("check", "bread:ok", ["blocking"]),
        ("job", "bake", ["asset_keys"]),
        ("schedule", "daily", ["cron_schedule"]),
        ("sensor", "watch", ["minimum_interval_seconds"]),
    ]
    schedule = diff.changed[2].fields[0]
    assert (schedule.before, schedule.after) == ("0 6 * * *", "0 7 * * *")
    assert diff.changed[1].fields[0].added == ("bun",)
    assert diff.summary() == "4 changed"

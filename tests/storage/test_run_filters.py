"""Runs filtered by status, job, asset, tag and launcher, on both backends; the lookups go
through indexes; revision 0010 indexes the assets of the runs a 0009 database holds."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bakehouse.storage import Instance, RunRecord, RunStatus, codec, dialect, migrate, schema
from bakehouse.storage.run_filter import (
    LaunchedBy,
    RunFilter,
    parse_filter,
    parse_launched_by,
)
from bakehouse.storage.runs import filter_conditions
from tests.storage.conftest import upgrade_to

LB = "bakehouse/launched_by"
RUNS = [
    RunRecord(run_id="ui-1", status=RunStatus.SUCCESS, asset_selection=("raw/orders", "clean"),
              tags={LB: "ui"}, created_at=1.0),
    RunRecord(run_id="cli-ana", status=RunStatus.FAILURE, asset_selection=("clean",),
              tags={LB: "cli", "bakehouse/user": "ana", "team": "data"}, created_at=2.0),
    RunRecord(run_id="sched-nightly", status=RunStatus.SUCCESS, job_name="bake",
              asset_selection=("raw/orders", "clean", "report"),
              tags={LB: "schedule", "bakehouse/schedule": "nightly", "team": "data"},
              created_at=3.0),
    RunRecord(run_id="sched-hourly", status=RunStatus.FAILURE, job_name="bake",
              asset_selection=("report",),
              tags={LB: "schedule", "bakehouse/schedule": "hourly"}, created_at=4.0),
    RunRecord(run_id="sensor-1", status=RunStatus.QUEUED, job_name="refresh",
              asset_selection=("report",),
              tags={LB: "sensor", "bakehouse/sensor": "new_files", "team": "web"}, created_at=5.0),
    RunRecord(run_id="backfill-1", status=RunStatus.SUCCESS, asset_selection=("daily",),
              tags={LB: "ui", "bakehouse/backfill": "abcdef"}, created_at=6.0),
]  # fmt: skip


def _ids(instance: Instance, run_filter: RunFilter) -> list[str]:
    return [r.run_id for r in instance.get_runs(limit=None, run_filter=run_filter)]


@pytest.mark.parametrize(
    ("run_filter", "expected"),
    [
        (RunFilter(), ["backfill-1", "sensor-1", "sched-hourly", "sched-nightly", "cli-ana",
                       "ui-1"]),
        (RunFilter(statuses=(RunStatus.FAILURE,)), ["sched-hourly", "cli-ana"]),
        (RunFilter(job_name="bake"), ["sched-hourly", "sched-nightly"]),
        (RunFilter(job_name="nope"), []),
        (RunFilter(asset_key="clean"), ["sched-nightly", "cli-ana", "ui-1"]),
        (RunFilter(asset_key="raw/orders"), ["sched-nightly", "ui-1"]),
        (RunFilter(tags=(("team", "data"),)), ["sched-nightly", "cli-ana"]),
        (RunFilter(tags=(("team", "data"), (LB, "cli"))), ["cli-ana"]),
        (RunFilter(tags=(("team", ""),)), []),
        (RunFilter(launched_by=LaunchedBy("user")), ["backfill-1", "cli-ana", "ui-1"]),
        (RunFilter(launched_by=LaunchedBy("user", "ana")), ["cli-ana"]),
        (RunFilter(launched_by=LaunchedBy("schedule")), ["sched-hourly", "sched-nightly"]),
        (RunFilter(launched_by=LaunchedBy("schedule", "nightly")), ["sched-nightly"]),
        (RunFilter(launched_by=LaunchedBy("sensor")), ["sensor-1"]),
        (RunFilter(launched_by=LaunchedBy("sensor", "other")), []),
        (RunFilter(launched_by=LaunchedBy("backfill")), ["backfill-1"]),
        (RunFilter(launched_by=LaunchedBy("backfill", "abcdef")), ["backfill-1"]),
        # Every part must hold.
        (RunFilter(statuses=(RunStatus.FAILURE,), job_name="bake", asset_key="report",
                   launched_by=LaunchedBy("schedule")), ["sched-hourly"]),
        (RunFilter(asset_key="report", tags=(("team", "web"),)), ["sensor-1"]),
    ],
)  # fmt: skip
def test_each_filter_keeps_the_runs_it_names(
    instance: Instance, run_filter: RunFilter, expected: list[str]
) -> None:
    for run in RUNS:
        instance.create_run(run)
    assert _ids(instance, run_filter) == expected


def test_filters_page_and_limit_like_the_plain_list(instance: Instance) -> None:
    for run in RUNS:
        instance.create_run(run)
    user = RunFilter(launched_by=LaunchedBy("user"))
    first = instance.get_runs(limit=2, run_filter=user)
    assert [r.run_id for r in first] == ["backfill-1", "cli-ana"]
    rest = instance.get_runs(limit=2, run_filter=user, before_created_at=first[-1].created_at)
    assert [r.run_id for r in rest] == ["ui-1"]


def test_the_asset_index_follows_updates_and_deletes(instance: Instance) -> None:
    instance.create_run(RunRecord(run_id="r", asset_selection=("a",), created_at=1.0))
    assert _ids(instance, RunFilter(asset_key="a")) == ["r"]
    instance.update_run("r", asset_selection=("b",))
    assert _ids(instance, RunFilter(asset_key="a")) == []
    assert _ids(instance, RunFilter(asset_key="b")) == ["r"]
    instance.delete_run("r")
    assert _ids(instance, RunFilter(asset_key="b")) == []


def test_a_long_asset_key_and_tag_are_found_through_their_digests(instance: Instance) -> None:
    # Longer than a PostgreSQL index entry may be: only digests are indexed.
    key, value = "k/" + "x" * 5000, "v" * 5000
    instance.create_run(
        RunRecord(run_id="long", asset_selection=(key,), tags={"big": value}, created_at=1.0)
    )
    assert _ids(instance, RunFilter(asset_key=key, tags=(("big", value),))) == ["long"]


def _plan(engine: Engine, run_filter: RunFilter) -> str:
    stmt = sa.select(schema.runs.c.run_id).where(
        *filter_conditions(run_filter, engine.dialect.name)
    )
    compiled = stmt.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").all()
    return "\n".join(str(row[-1]) for row in rows)


@pytest.mark.parametrize(
    ("run_filter", "index"),
    [
        (RunFilter(job_name="bake"), "ix_runs_job_name_created_at"),
        (RunFilter(asset_key="clean"), "ix_run_assets_asset_digest_created_at"),
        # Runs whose selection is kept by reference: the selection's keys, then its runs.
        (RunFilter(asset_key="clean"), "sqlite_autoindex_run_selection_assets_1"),
        (RunFilter(asset_key="clean"), "ix_runs_selection_digest_created_at"),
        (RunFilter(tags=(("team", "data"),)), "ix_run_tags_tag_digest_created_at"),
        (RunFilter(launched_by=LaunchedBy("schedule", "x")), "ix_run_tags_tag_digest_created_at"),
        (RunFilter(launched_by=LaunchedBy("backfill")), "sqlite_autoindex_run_tags_1"),
    ],
)
def test_sqlite_answers_each_filter_through_an_index(
    tmp_path: Path, run_filter: RunFilter, index: str
) -> None:
    with Instance.for_home(tmp_path / ".bakehouse") as instance:
        for run in RUNS:
            instance.create_run(run)
        assert instance.url is not None
        engine = dialect.create_engine(dialect.parse_url(instance.url))
        try:
            assert index in _plan(engine, run_filter)
        finally:
            engine.dispose()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("robot", "unknown launcher 'robot': use one of user, schedule, sensor, backfill"),
        ("schedule:", "has ':' but no name"),
    ],
)
def test_a_bad_launcher_is_refused_naming_the_choices(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_launched_by(text)


def test_text_filters_parse_as_people_type_them() -> None:
    parsed = parse_filter(
        statuses=["failure", "SUCCESS"], job="bake", tags=["team=data", "empty="],
        launched_by="sensor:new_files",
    )  # fmt: skip
    assert parsed == RunFilter(
        statuses=(RunStatus.FAILURE, RunStatus.SUCCESS),
        job_name="bake",
        tags=(("team", "data"), ("empty", "")),
        launched_by=LaunchedBy("sensor", "new_files"),
    )
    with pytest.raises(ValueError, match="unknown run status 'done'"):
        parse_filter(statuses=["done"])
    with pytest.raises(ValueError, match="must look like key=value"):
        parse_filter(tags=["team"])


def test_revision_0010_indexes_the_assets_of_the_runs_a_0009_database_holds(
    db_url: str, engine: Engine, tmp_path: Path
) -> None:
    upgrade_to(engine, "0009")
    # More than one batch of the migration's copy (1000 runs).
    runs = [
        RunRecord(run_id=f"run-{i:05d}", asset_selection=("a", f"k{i % 3}"), job_name="j",
                  created_at=1000.0 + i, updated_at=1000.0 + i)
        for i in range(1_100)
    ]  # fmt: skip
    with engine.connect() as conn:
        conn.execution_options(**dialect.WRITE_OPTIONS)
        with conn.begin():
            # A 0009 row: no selection_digest column yet (0014 adds it).
            rows = [codec.run_to_row(run) for run in runs]
            for row in rows:
                del row["selection_digest"]
            conn.execute(sa.insert(schema.runs), rows)
    with Instance.open(db_url, storage_dir=tmp_path / "storage") as instance:
        with engine.connect() as conn:
            assert migrate.current_revisions(conn) == migrate.known_revisions()[-1:]
        found = instance.get_runs(limit=None, run_filter=RunFilter(asset_key="k1"))
        assert [r.run_id for r in found] == [r.run_id for r in reversed(runs) if "k1" in
                                             r.asset_selection]  # fmt: skip
        assert len(instance.get_runs(limit=None, run_filter=RunFilter(asset_key="a"))) == 1_100

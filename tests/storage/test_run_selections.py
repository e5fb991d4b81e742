"""Large run selections are stored once by reference (`run_selections`), rows written before
revision 0014 still decode, and short run ids are found by an indexed prefix query, on both
backends."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bakehouse.errors import AmbiguousRunIdError, CorruptRecordError, RunNotFoundError
from bakehouse.storage import Instance, RunRecord, RunStatus, codec, dialect, schema
from bakehouse.storage.records import CorruptRecord
from bakehouse.storage.run_filter import RunFilter
from tests.storage.conftest import upgrade_to

KEYS = tuple(f"group/asset_{i:05d}" for i in range(2_000))
CHECKS = ("group/asset_00000:not_null",)


def _stored(engine: Engine, run_id: str) -> tuple[str, str | None]:
    """The run's stored body and selection digest."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(schema.runs.c.body, schema.runs.c.selection_digest).where(
                schema.runs.c.run_id == run_id
            )
        ).one()
    return str(row.body), row.selection_digest


def _selection_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(sa.select(sa.func.count()).select_from(schema.run_selections)).scalar_one()
        )


def test_runs_of_one_large_selection_share_one_row_and_read_back_whole(
    instance: Instance, engine: Engine
) -> None:
    for i in range(5):
        instance.create_run(
            RunRecord(
                run_id=f"r{i}", asset_selection=KEYS, check_selection=CHECKS, created_at=i + 1.0
            )
        )
    assert _selection_rows(engine) == 1
    body, digest = _stored(engine, "r3")
    assert digest is not None
    assert len(body) < 1_000
    assert "asset_00001" not in body
    assert instance.get_run("r3").asset_selection == KEYS
    assert instance.get_run("r3").check_selection == CHECKS
    listed = instance.get_runs(limit=None)
    assert [r.run_id for r in listed] == ["r4", "r3", "r2", "r1", "r0"]
    assert all(r.asset_selection == KEYS for r in listed)
    # The asset filter still finds them through run_assets.
    assert len(instance.get_runs(limit=None, run_filter=_asset("group/asset_01999"))) == 5


def _asset(key: str) -> RunFilter:
    return RunFilter(asset_key=key)


def test_a_small_selection_stays_in_the_run_body(instance: Instance, engine: Engine) -> None:
    instance.create_run(RunRecord(run_id="small", asset_selection=("a", "b")))
    body, digest = _stored(engine, "small")
    assert digest is None
    assert json.loads(body)["asset_selection"] == ["a", "b"]
    assert _selection_rows(engine) == 0


def test_updates_keep_or_move_the_reference(instance: Instance, engine: Engine) -> None:
    instance.create_run(RunRecord(run_id="r", asset_selection=KEYS))
    digest = _stored(engine, "r")[1]
    instance.update_run("r", status=RunStatus.STARTED)
    assert _stored(engine, "r")[1] == digest
    assert instance.get_run("r").asset_selection == KEYS
    instance.update_run("r", asset_selection=KEYS[:3])  # small now: back in the body
    assert _stored(engine, "r")[1] is None
    assert instance.get_run("r").asset_selection == KEYS[:3]
    instance.update_run("r", asset_selection=KEYS[::-1])  # order is part of the selection
    reversed_digest = _stored(engine, "r")[1]
    assert reversed_digest not in (None, digest)
    assert instance.get_run("r").asset_selection == KEYS[::-1]


def test_a_row_from_before_0014_with_its_keys_in_the_body_still_decodes(
    db_url: str, engine: Engine, tmp_path: Path
) -> None:
    upgrade_to(engine, "0013")
    old = RunRecord(run_id="old", asset_selection=KEYS, created_at=1.0, updated_at=1.0)
    row = codec.run_to_row(old)
    del row["selection_digest"]  # no such column at 0013
    with engine.connect() as conn:
        conn.execution_options(**dialect.WRITE_OPTIONS)
        with conn.begin():
            conn.execute(sa.insert(schema.runs), row)
    with Instance.open(db_url, storage_dir=tmp_path / "storage") as instance:
        assert instance.get_run("old").asset_selection == KEYS
        assert instance.get_runs(limit=None)[0].asset_selection == KEYS
        assert _stored(engine, "old")[1] is None
        # Its first update moves the keys out of its body.
        instance.update_run("old", status=RunStatus.SUCCESS)
        assert _stored(engine, "old")[1] is not None
        assert instance.get_run("old").asset_selection == KEYS


def test_a_run_whose_selection_row_is_gone_reads_as_corrupt_naming_it(
    instance: Instance, engine: Engine
) -> None:
    instance.create_run(RunRecord(run_id="fine", asset_selection=("a",), created_at=1.0))
    lost = RunRecord(
        run_id="lost", asset_selection=tuple(f"x{i}" for i in range(100)), created_at=2.0
    )
    instance.create_run(lost)
    with engine.connect() as conn:
        conn.execution_options(**dialect.WRITE_OPTIONS)
        with conn.begin():
            conn.execute(sa.delete(schema.run_selections))
    # A selection read before stays in the process's cache: forget it, as a new process would.
    from bakehouse.storage import selections

    selections._cache = selections._Cache(1_000)
    listed = instance.get_runs(limit=None, include_corrupt=True)
    assert isinstance(listed[0], CorruptRecord)
    assert listed[0].key == "lost"
    assert "missing from run_selections" in listed[0].reason
    assert [r.run_id for r in instance.get_runs(limit=None)] == ["fine"]
    with pytest.raises(CorruptRecordError, match="lost"):
        instance.get_run("lost")


# -- short run ids ---------------------------------------------------------------------------


def test_a_short_id_names_the_one_run_it_starts(instance: Instance) -> None:
    for run_id in ("abc123", "abd456", "x_1%", "x_2"):
        instance.create_run(RunRecord(run_id=run_id))
    assert instance.find_run("abc123").run_id == "abc123"
    assert instance.find_run("abc").run_id == "abc123"
    assert instance.find_run("abd").run_id == "abd456"
    # LIKE's wildcards in an id are plain characters: "x_" is not "x" and any character.
    assert instance.find_run("x_1").run_id == "x_1%"
    with pytest.raises(RunNotFoundError):
        instance.find_run("x%")
    with pytest.raises(RunNotFoundError):
        instance.find_run("zzz")


def test_an_ambiguous_short_id_lists_its_candidates(instance: Instance) -> None:
    for i in range(12):
        instance.create_run(RunRecord(run_id=f"ab{i:02d}"))
    with pytest.raises(AmbiguousRunIdError) as raised:
        instance.find_run("ab0")
    assert raised.value.candidates == [f"ab{i:02d}" for i in range(10)]
    assert "more than" not in str(raised.value)
    assert "ab00, ab01" in str(raised.value)
    with pytest.raises(AmbiguousRunIdError, match=r"more than 10 runs' ids: ab00, .*ab09, \.\.\."):
        instance.find_run("ab")


def test_a_short_id_finds_a_run_older_than_the_newest_ten_thousand(
    instance: Instance, engine: Engine
) -> None:
    oldest = RunRecord(run_id="0ld" + uuid.uuid4().hex, created_at=1.0, updated_at=1.0)
    newer = [
        RunRecord(run_id=uuid.uuid4().hex, created_at=10.0 + i, updated_at=10.0 + i)
        for i in range(10_050)
    ]
    with engine.connect() as conn:
        conn.execution_options(**dialect.WRITE_OPTIONS)
        with conn.begin():
            conn.execute(sa.insert(schema.runs), [codec.run_to_row(r) for r in [oldest, *newer]])
    assert instance.find_run(oldest.run_id[:8]).run_id == oldest.run_id


def _plan(engine: Engine, prefix: str) -> str:
    from bakehouse.storage.runs import select_run_ids_by_prefix

    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            # A handful of rows: the planner would rather scan them; this asks whether it can
            # use an index at all, which is what 100,000 runs need.
            conn.exec_driver_sql("SET enable_seqscan = off")
        stmt = sa.select(schema.runs.c.run_id).where(
            dialect.run_id_prefix(schema.runs.c.run_id, prefix, engine.dialect.name)
        )
        compiled = stmt.compile(engine, compile_kwargs={"literal_binds": True})
        explain = "EXPLAIN QUERY PLAN" if engine.dialect.name == "sqlite" else "EXPLAIN"
        rows = conn.exec_driver_sql(f"{explain} {compiled}").all()
        assert select_run_ids_by_prefix(conn, prefix, limit=2) == []
        return " ".join(str(part) for row in rows for part in row)


def test_the_prefix_query_goes_through_an_index(instance: Instance, engine: Engine) -> None:
    instance.create_run(RunRecord(run_id="something-else"))
    plan = _plan(engine, "abc")
    assert "ix_runs_run_id_pattern" in plan or "sqlite_autoindex_runs_1" in plan, plan
    assert "SCAN runs" not in plan, plan
    assert "Seq Scan" not in plan, plan


# -- which runs selected an asset ------------------------------------------------------------


def _count(engine: Engine, table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
    with engine.connect() as conn:
        stmt = sa.select(sa.func.count()).select_from(table).where(*where)
        return int(conn.execute(stmt).scalar_one())


def test_a_selection_by_reference_indexes_its_keys_once_not_per_run(
    instance: Instance, engine: Engine
) -> None:
    for i in range(5):
        instance.create_run(RunRecord(run_id=f"star{i}", asset_selection=KEYS, created_at=i + 1.0))
    # Inline selections still get a row per key; the referenced one its keys once.
    instance.create_run(RunRecord(run_id="small", asset_selection=(KEYS[7], "b"), created_at=2.5))
    instance.create_run(
        RunRecord(run_id="other", asset_selection=tuple(f"x{i}" for i in range(50)), created_at=9)
    )
    assert _count(engine, schema.run_assets) == 2
    assert _count(engine, schema.run_selection_assets) == len(KEYS) + 50
    listed = instance.get_runs(limit=None, run_filter=_asset(KEYS[7]))
    assert [r.run_id for r in listed] == ["star4", "star3", "star2", "small", "star1", "star0"]
    assert [r.run_id for r in instance.get_runs(limit=2, run_filter=_asset(KEYS[7]))] == [
        "star4",
        "star3",
    ]
    paged = instance.get_runs(limit=2, before_created_at=3.0, run_filter=_asset(KEYS[7]))
    assert [r.run_id for r in paged] == ["small", "star1"]
    assert [r.run_id for r in instance.get_runs(limit=None, run_filter=_asset("x3"))] == ["other"]
    assert instance.get_runs(limit=None, run_filter=_asset("b")) == [instance.get_run("small")]
    assert instance.get_runs(limit=None, run_filter=_asset("nowhere")) == []


def test_updates_and_deletes_keep_the_asset_index_right(instance: Instance, engine: Engine) -> None:
    instance.create_run(RunRecord(run_id="r", asset_selection=KEYS, created_at=1.0))
    instance.update_run("r", asset_selection=("a", "b"))  # into the body: rows of its own
    assert _count(engine, schema.run_assets) == 2
    assert [r.run_id for r in instance.get_runs(limit=None, run_filter=_asset("a"))] == ["r"]
    assert instance.get_runs(limit=None, run_filter=_asset(KEYS[5])) == []
    instance.update_run("r", asset_selection=KEYS[:100])  # by reference again
    assert _count(engine, schema.run_assets) == 0
    assert [r.run_id for r in instance.get_runs(limit=None, run_filter=_asset(KEYS[5]))] == ["r"]
    assert instance.get_runs(limit=None, run_filter=_asset("a")) == []
    instance.create_run(RunRecord(run_id="s", asset_selection=("a",), created_at=2.0))
    instance.delete_run("s")
    assert _count(engine, schema.run_assets) == 0


def test_0017_moves_referenced_selections_out_of_run_assets_and_back(
    db_url: str, engine: Engine, tmp_path: Path
) -> None:
    upgrade_to(engine, "0016")
    big = RunRecord(run_id="big", asset_selection=KEYS[:40], created_at=2.0, updated_at=2.0)
    small = RunRecord(run_id="small", asset_selection=(KEYS[3],), created_at=1.0, updated_at=1.0)
    digest = codec.selection_digest(big)
    with engine.connect() as conn:
        conn.execution_options(**dialect.WRITE_OPTIONS)
        with conn.begin():
            # As revision 0016's create_run wrote them: a row per key for every run.
            conn.execute(sa.insert(schema.run_selections), codec.selection_row(big, digest, 1.0))
            conn.execute(
                sa.insert(schema.runs), [codec.run_to_row(big, digest), codec.run_to_row(small)]
            )
            rows = [
                {
                    "run_id": run.run_id,
                    "asset_key": key,
                    "asset_digest": codec.digest(key),
                    "created_at": run.created_at,
                }
                for run in (big, small)
                for key in run.asset_selection
            ]
            conn.execute(
                sa.text(
                    "INSERT INTO run_assets (run_id, asset_key, asset_digest, created_at) "
                    "VALUES (:run_id, :asset_key, :asset_digest, :created_at)"
                ),
                rows,
            )
    with Instance.open(db_url, storage_dir=tmp_path / "storage") as instance:
        assert _count(engine, schema.run_assets) == 1
        assert _count(engine, schema.run_selection_assets) == 40
        found = instance.get_runs(limit=None, run_filter=_asset(KEYS[3]))
        assert [r.run_id for r in found] == ["big", "small"]
    from alembic import command
    from alembic.config import Config

    from bakehouse.storage import migrate

    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS_DIR))
    with engine.connect() as conn, conn.begin():
        config.attributes["connection"] = conn
        command.downgrade(config, "0016")
    assert _count(engine, schema.run_assets) == 41


def test_the_runs_of_an_asset_are_found_through_indexes(instance: Instance, engine: Engine) -> None:
    from bakehouse.storage.runs import filter_conditions

    instance.create_run(RunRecord(run_id="star", asset_selection=KEYS, created_at=1.0))
    instance.create_run(RunRecord(run_id="small", asset_selection=(KEYS[1],), created_at=2.0))
    runs = schema.runs
    stmt = (
        sa.select(runs.c.run_id)
        .where(*filter_conditions(_asset(KEYS[1]), engine.dialect.name))
        .order_by(runs.c.created_at.desc())
        .limit(50)
    )
    compiled = stmt.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            # A handful of rows: the planner would rather scan them; this asks whether it can
            # use the indexes at all, which is what 100,000 runs need.
            conn.exec_driver_sql("SET enable_seqscan = off")
        explain = "EXPLAIN QUERY PLAN" if engine.dialect.name == "sqlite" else "EXPLAIN"
        plan = " ".join(
            str(p) for row in conn.exec_driver_sql(f"{explain} {compiled}") for p in row
        )
        assert [r for (r,) in conn.execute(stmt)] == ["small", "star"]
    # Both sources of the answer are index lookups, on either backend.
    assert "ix_run_assets_asset_digest_created_at" in plan, plan
    assert "run_selection_assets_1" in plan or "run_selection_assets_pkey" in plan, plan
    assert "SCAN runs" not in plan, plan
    assert "Seq Scan" not in plan, plan
    if engine.dialect.name == "sqlite":
        # PostgreSQL may instead walk runs newest first, probing both (hashed) subplans.
        assert "ix_runs_selection_digest_created_at" in plan, plan

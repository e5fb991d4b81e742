"""The event log's indexes after revision 0019, on both backends: the asset index holds only the
events that name an asset and still serves every query by asset_key, event_type has no index,
and the change feed reads the newest events by the primary key."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bakehouse.storage import EventRecord, EventType, Instance, RunRecord, RunStatus, schema
from bakehouse.storage.changes import FOLLOWED_EVENT_TYPES
from tests.storage.conftest import upgrade_to

E = EventType
ASSET_INDEX = "ix_event_logs_asset_key_event_type_id"


def _store_steps(instance: Instance, run_id: str, steps: int) -> None:
    instance.create_run(RunRecord(run_id=run_id, status=RunStatus.STARTED, created_at=1.0))
    events: list[EventRecord] = []
    for i in range(steps):
        key = f"a_{i:03d}"
        events += [
            EventRecord(run_id=run_id, event_type=E.STEP_START, timestamp=i, step_key=key),
            EventRecord(
                run_id=run_id,
                event_type=E.ASSET_MATERIALIZATION,
                timestamp=i + 0.5,
                step_key=key,
                asset_key=key,
            ),
            EventRecord(run_id=run_id, event_type=E.STEP_SUCCESS, timestamp=i + 0.9, step_key=key),
        ]
    instance.store_events(events)


def _index_definition(conn: Connection) -> str:
    """The asset index as the database spells it."""
    if conn.dialect.name == "sqlite":
        sql = f"SELECT sql FROM sqlite_master WHERE name = '{ASSET_INDEX}'"
    else:
        sql = f"SELECT indexdef FROM pg_indexes WHERE indexname = '{ASSET_INDEX}'"
    return str(conn.exec_driver_sql(sql).scalar_one())


def _plan(conn: Connection, stmt: sa.Select[tuple[object, ...]]) -> str:
    compiled = stmt.compile(conn.engine, compile_kwargs={"literal_binds": True})
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")
        return " ".join(str(r[3]) for r in rows)
    # A handful of rows: without this the planner rightly reads the table. What is checked is
    # that it *can* use the partial index for the query as written (it proves the condition).
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    return " ".join(str(r[0]) for r in conn.exec_driver_sql(f"EXPLAIN {compiled}"))


def _row(event_type: str, asset_key: str | None) -> dict[str, object]:
    return {
        "run_id": "old",
        "event_type": event_type,
        "timestamp": 1.0,
        "step_key": "s",
        "asset_key": asset_key,
        "partition_key": None,
        "level": "INFO",
        "message": "",
        "body": "{}",
    }


def _index_names(engine: Engine) -> set[str]:
    return {ix["name"] for ix in sa.inspect(engine).get_indexes("event_logs") if ix["name"]}


def test_the_asset_index_holds_only_events_that_name_an_asset(
    instance: Instance, engine: Engine
) -> None:
    _store_steps(instance, "r", 20)
    assert "ix_event_logs_event_type" not in _index_names(engine)
    with engine.connect() as conn:
        definition = _index_definition(conn)
    assert "WHERE" in definition, definition
    assert "asset_key IS NOT NULL" in definition, definition
    history = instance.get_materialization_history("a_007", limit=5)
    assert [(e.asset_key, e.step_key) for e in history] == [("a_007", "a_007")]


def test_queries_by_asset_key_use_the_partial_index(instance: Instance, engine: Engine) -> None:
    _store_steps(instance, "r", 20)
    log = schema.event_logs
    one = (
        sa.select(log.c.id, log.c.body)
        .where(log.c.asset_key == "a_003", log.c.event_type == E.ASSET_MATERIALIZATION.value)
        .order_by(log.c.id.desc())
        .limit(3)
    )
    many = sa.select(log.c.id).where(
        log.c.asset_key.in_(["a_001", "a_002"]),
        log.c.event_type.in_([E.ASSET_MATERIALIZATION.value]),
    )
    with engine.connect() as conn, conn.begin():
        assert ASSET_INDEX in _plan(conn, one), _plan(conn, one)
        assert ASSET_INDEX in _plan(conn, many), _plan(conn, many)


def test_the_change_feed_reads_by_the_primary_key(instance: Instance, engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return  # PostgreSQL's planner picks by statistics; the shape of the plan is SQLite's
    _store_steps(instance, "r", 20)
    log = schema.event_logs
    stmt = (
        sa.select(log.c.id, log.c.event_type)
        .where(log.c.id > 10, log.c.event_type.in_([t.value for t in FOLLOWED_EVENT_TYPES]))
        .order_by(log.c.id)
        .limit(100)
    )
    with engine.connect() as conn:
        plan = _plan(conn, stmt)
    assert "INTEGER PRIMARY KEY" in plan, plan


def test_upgrading_from_0018_keeps_the_history_and_rebuilds_the_index(engine: Engine) -> None:
    upgrade_to(engine, "0018")
    assert "ix_event_logs_event_type" in _index_names(engine)
    with engine.begin() as conn:
        conn.execute(
            schema.event_logs.insert(),
            [_row(t, k) for t, k in [("STEP_START", None), ("ASSET_MATERIALIZATION", "s")]],
        )
    upgrade_to(engine, "0019")
    assert "ix_event_logs_event_type" not in _index_names(engine)
    with engine.connect() as conn:
        assert "asset_key IS NOT NULL" in _index_definition(conn)
    with engine.begin() as conn:
        # Still the asset's history, through the rebuilt index.
        found = conn.execute(
            sa.select(schema.event_logs.c.event_type).where(schema.event_logs.c.asset_key == "s")
        ).scalars()
        assert list(found) == ["ASSET_MATERIALIZATION"]

"""Automation condition semantics, tick by tick, on every storage backend (a SQLite file and
PostgreSQL): snapshots built in this process (no code server), runs stored QUEUED by the launch
service and finished by the test."""

from __future__ import annotations

from datetime import datetime, timezone

import bakehouse as dg
from bakehouse.codeserver.loader import build_snapshot
from bakehouse.daemon.automation import sensor_tick
from bakehouse.host.automation_view import true_nodes
from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.storage import EventRecord, EventType, Instance, RunRecord, RunStatus
from bakehouse.storage.records import TickRecord
from tests.storage import conftest as storage_fixtures

# The storage suite's fixtures: `instance` is a fresh instance on each backend in turn.
backend = storage_fixtures.backend
db_url = storage_fixtures.db_url
open_instance = storage_fixtures.open_instance
postgres_database = storage_fixtures.postgres_database
instance = storage_fixtures.instance


def at(day: int, hour: int = 0, minute: int = 0) -> float:
    return datetime(2026, 3, day, hour, minute, tzinfo=timezone.utc).timestamp()


class Deployment:
    """One location's snapshot and its automation condition sensor, ticked by hand."""

    def __init__(self, instance: Instance, defs: dg.Definitions) -> None:
        self.instance = instance
        self.load(defs)

    def load(self, defs: dg.Definitions) -> None:
        self.snap = build_snapshot(defs, name="loc", module="m", load_seconds=0)
        self.graph = GlobalAssetGraph([self.snap])
        (self.sensor,) = [s for s in self.snap.sensors if s.kind == "automation_condition"]

    def tick(self, now: float) -> TickRecord:
        return sensor_tick(self.instance, self.graph, self.snap, self.sensor, None, now)

    def runs(self) -> list[RunRecord]:
        """Runs the automation launched, oldest first."""
        found = self.instance.get_runs_by_tag("bakehouse/from_automation_condition", "true")
        return sorted(found, key=lambda r: r.created_at)

    def materialize(self, *keys: str, partition: str | None = None, run_id: str = "") -> None:
        """A finished run that materialized `keys` (of `partition`)."""
        run_id = run_id or f"manual-{len(self.instance.get_runs(limit=None))}"
        self.instance.create_run(
            RunRecord(
                run_id=run_id,
                asset_selection=keys,
                partition_key=partition,
                status=RunStatus.STARTED,
            )
        )
        self.finish(run_id)

    def finish(self, run_id: str) -> None:
        """Materialize everything run `run_id` selects, and end it successfully."""
        run = self.instance.get_run(run_id)
        for key in run.asset_selection:
            self.instance.store_event(
                EventRecord(
                    run_id=run_id,
                    event_type=EventType.ASSET_MATERIALIZATION,
                    timestamp=1.0,
                    asset_key=key,
                    partition_key=run.partition_key,
                    step_key=key,
                )
            )
        self.instance.update_run(run_id, status=RunStatus.SUCCESS)


def test_an_eager_chain_runs_downstream_assets_in_one_run_and_once(instance: Instance) -> None:
    eager = dg.AutomationCondition.eager()

    @dg.asset
    def a() -> None: ...

    @dg.asset(deps=[a], automation_condition=eager)
    def b() -> None: ...

    @dg.asset(deps=[b], automation_condition=eager)
    def c() -> None: ...

    dep = Deployment(instance, dg.Definitions(assets=[a, b, c]))
    assert dep.tick(at(1)).run_ids == ()
    dep.materialize("a")
    (run_id,) = dep.tick(at(1, 0, 1)).run_ids
    # c's dependency b is missing, but will be requested in this tick: one run for both.
    (run,) = dep.runs()
    assert run.asset_selection == ("b", "c")
    why_c = instance.get_automation_evaluations("c", limit=1)[0]
    assert "will_be_requested (b)" in true_nodes(why_c.tree)
    # While the run is queued, nothing more; once it is done, c does not run again although
    # b updated: the run that updated b also materialized c.
    assert dep.tick(at(1, 0, 2)).run_ids == ()
    dep.finish(run_id)
    assert dep.tick(at(1, 0, 3)).run_ids == ()
    assert dep.tick(at(1, 0, 4)).run_ids == ()
    assert len(dep.runs()) == 1


def test_eager_waits_for_the_blocking_checks_of_its_deps_as_the_guide_combines_them(
    instance: Instance,
) -> None:
    @dg.asset(check_specs=[dg.AssetCheckSpec("rows_ok", asset="a", blocking=True)])
    def a() -> None: ...

    condition = (
        dg.AutomationCondition.eager() & dg.AutomationCondition.all_deps_blocking_checks_passed()
    )

    @dg.asset(deps=[a], automation_condition=condition)
    def b() -> None: ...

    dep = Deployment(instance, dg.Definitions(assets=[a, b]))
    dep.tick(at(1))
    dep.materialize("a", run_id="m1")
    # Updated, but its blocking check has no result against the new data yet: wait.
    assert dep.tick(at(1, 0, 1)).run_ids == ()
    waiting = true_nodes(instance.get_automation_evaluations("b", limit=1)[0].tree)
    assert "any_deps_updated" in waiting
    assert "all_deps_blocking_checks_passed" not in waiting
    check = EventRecord(
        run_id="m1",
        event_type=EventType.ASSET_CHECK_EVALUATION,
        timestamp=1.0,
        asset_key="a",
        step_key="a",
        data={"check_name": "rows_ok", "passed": True, "severity": "ERROR"},
    )
    instance.store_event(check)
    assert len(dep.tick(at(1, 0, 2)).run_ids) == 1
    why = true_nodes(instance.get_automation_evaluations("b", limit=1)[0].tree)
    assert "all_blocking_checks_passed (a)" in why
    assert "check_passed (a:rows_ok)" in why


def test_eager_waits_while_a_dependency_is_in_progress(instance: Instance) -> None:
    @dg.asset
    def a() -> None: ...

    @dg.asset(deps=[a], automation_condition=dg.AutomationCondition.eager())
    def b() -> None: ...

    dep = Deployment(instance, dg.Definitions(assets=[a, b]))
    dep.tick(at(1))
    dep.materialize("a")
    instance.create_run(RunRecord(run_id="again", asset_selection=("a",)))  # queued
    assert dep.tick(at(1, 0, 1)).run_ids == ()
    waiting = instance.get_automation_evaluations("b", limit=1)[0]
    assert "any_deps_in_progress" in true_nodes(waiting.tree)
    assert "any_deps_updated" in true_nodes(waiting.tree)
    dep.finish("again")
    assert len(dep.tick(at(1, 0, 2)).run_ids) == 1


def test_on_missing_requests_only_the_new_latest_partition(instance: Instance) -> None:
    days = dg.DailyPartitionsDefinition(start_date="2026-02-25")

    @dg.asset(partitions_def=days, automation_condition=dg.AutomationCondition.on_missing())
    def daily() -> None: ...

    dep = Deployment(instance, dg.Definitions(assets=[daily]))
    # Every partition is missing when the condition is first applied: none is "newly" missing.
    assert dep.tick(at(1, 12)).run_ids == ()
    assert dep.tick(at(1, 13)).run_ids == ()
    # A day later a new partition exists: only it (the latest window) is requested.
    assert len(dep.tick(at(2, 1)).run_ids) == 1
    (run,) = dep.runs()
    assert run.partition_key == "2026-03-01"
    evaluation = instance.get_automation_evaluations("daily", limit=1)[0]
    assert evaluation.requested == ("2026-03-01",)
    assert evaluation.tree.candidates == 5  # 2026-02-25 ... 2026-03-01
    dep.finish(run.run_id)
    assert dep.tick(at(2, 2)).run_ids == ()


def test_code_version_changed_since_requested_follows_the_snapshot(instance: Instance) -> None:
    ac = dg.AutomationCondition
    condition = ac.code_version_changed().since(ac.newly_requested())

    def defs(version: str) -> dg.Definitions:
        @dg.asset(code_version=version, automation_condition=condition)
        def model() -> None: ...

        return dg.Definitions(assets=[model])

    dep = Deployment(instance, defs("1"))
    assert dep.tick(at(1)).run_ids == ()
    assert dep.tick(at(1, 1)).run_ids == ()
    dep.load(defs("2"))
    assert len(dep.tick(at(1, 2)).run_ids) == 1
    # Requested: the since resets, and the version is unchanged from here on.
    assert dep.tick(at(1, 3)).run_ids == ()
    assert dep.tick(at(1, 4)).run_ids == ()


def test_a_changed_condition_starts_over_with_an_initial_evaluation(instance: Instance) -> None:
    ac = dg.AutomationCondition

    def defs(condition: dg.AutomationCondition) -> dg.Definitions:
        @dg.asset(automation_condition=condition)
        def thing() -> None: ...

        return dg.Definitions(assets=[thing])

    dep = Deployment(instance, defs(ac.initial_evaluation()))
    assert len(dep.tick(at(1)).run_ids) == 1
    assert dep.tick(at(1, 1)).run_ids == ()
    dep.load(defs(ac.initial_evaluation() | ac.execution_failed()))
    assert len(dep.tick(at(1, 2)).run_ids) == 1

"""Declarative automation on real daemon ticks: a code server, SQLite storage, run workers and
a clock the test moves."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bakehouse.daemon.automation import AutomationDaemon
from bakehouse.daemon.scheduler import set_running
from bakehouse.storage.automation_records import ConditionNodeResult
from bakehouse.storage.records import InstigatorType, RunRecord, TickStatus
from tests.daemon.conftest import FakeClock, MakeParts, Parts, run_queued
from tests.support.launching import queue_run

pytestmark = pytest.mark.slow

DEFAULT_SENSOR = "default_automation_condition_sensor"

EAGER = {
    "defs/assets.py": """\
        import bakehouse as dg


        @dg.asset
        def raw():
            return 1


        @dg.asset(automation_condition=dg.AutomationCondition.eager())
        def cleaned(raw):
            return raw + 1
        """
}

ON_CRON = {
    "defs/assets.py": """\
        import bakehouse as dg


        @dg.asset
        def raw():
            return 1


        @dg.asset(deps=[raw], automation_condition=dg.AutomationCondition.on_cron("0 * * * *"))
        def hourly():
            return 2
        """
}


def _at(hour: int, minute: int) -> float:
    return datetime(2026, 1, 5, hour, minute, tzinfo=timezone.utc).timestamp()


def _start(parts: Parts, module: str, clock: FakeClock) -> AutomationDaemon:
    # Off by default, as in Dagster: someone turns it on.
    set_running(parts.instance, location=module, name=DEFAULT_SENSOR,
                type=InstigatorType.SENSOR, running=True, now=clock.now)  # fmt: skip
    return AutomationDaemon(parts.instance, parts.supervisor, clock=clock)


def _materialize(parts: Parts, key: str) -> None:
    queue_run(parts.instance, parts.supervisor.global_graph(), [key])
    run_queued(parts)


def _automation_runs(parts: Parts) -> list[RunRecord]:
    return [
        r
        for r in parts.instance.get_runs(limit=None)
        if r.tags.get("bakehouse/from_automation_condition") == "true"
    ]


def _tick(daemon: AutomationDaemon, clock: FakeClock, at: float) -> TickStatus:
    clock.now = at
    (tick,) = daemon.tick()
    return tick.status


def _true_names(node: ConditionNodeResult) -> set[str]:
    """Labels (else names) of every node that was true, with the dependency they were for."""
    found = set()
    if node.is_true:
        name = node.label or node.name
        found.add(f"{name}@{node.dep}" if node.dep else name)
    for child in node.children:
        found |= _true_names(child)
    return found


def test_an_eager_asset_materializes_once_after_its_upstream_does(make_parts: MakeParts) -> None:
    parts = make_parts("auto_eager", EAGER)
    clock = FakeClock(_at(10, 0))
    daemon = _start(parts, "auto_eager", clock)

    # First evaluation: nothing updated since a previous one, and missing-at-start is not
    # "newly" missing (Dagster's eager).
    assert _tick(daemon, clock, _at(10, 0)) == TickStatus.SKIPPED
    assert _automation_runs(parts) == []

    _materialize(parts, "raw")
    assert _tick(daemon, clock, _at(10, 1)) == TickStatus.SUCCESS
    (run,) = _automation_runs(parts)
    assert run.asset_selection == ("cleaned",)
    assert run.tags["bakehouse/sensor"] == DEFAULT_SENSOR
    run_queued(parts)

    # Requested, then updated: handled. Further ticks request nothing more.
    for minute in (2, 3, 4):
        assert _tick(daemon, clock, _at(10, minute)) == TickStatus.SKIPPED
    assert len(_automation_runs(parts)) == 1
    assert "cleaned" in parts.instance.get_latest_materializations(["cleaned"])

    # The evaluation that requested it says why: raw was newly updated.
    requested = parts.instance.get_automation_evaluations("cleaned", requested_only=True)
    assert [e.run_ids for e in requested] == [(run.run_id,)]
    true = _true_names(requested[0].tree)
    assert {"eager", "any_deps_updated", "newly_updated_without_root@raw",
            "newly_updated@raw", "in_latest_time_window"} <= true  # fmt: skip
    assert "handled" not in true
    assert "newly_missing" not in true
    assert "any_deps_missing" not in true
    assert "in_progress" not in true

    # A second update upstream: a second run, again once.
    _materialize(parts, "raw")
    assert _tick(daemon, clock, _at(10, 5)) == TickStatus.SUCCESS
    run_queued(parts)
    assert _tick(daemon, clock, _at(10, 6)) == TickStatus.SKIPPED
    assert len(_automation_runs(parts)) == 2


def test_an_on_cron_asset_materializes_once_per_cron_tick_after_its_deps_update(
    make_parts: MakeParts,
) -> None:
    parts = make_parts("auto_cron", ON_CRON)
    clock = FakeClock(_at(10, 30))
    daemon = _start(parts, "auto_cron", clock)

    assert _tick(daemon, clock, _at(10, 30)) == TickStatus.SKIPPED
    _materialize(parts, "raw")
    # Updated, but no cron tick has passed since the condition was first evaluated.
    assert _tick(daemon, clock, _at(10, 45)) == TickStatus.SKIPPED
    # 11:00 passed; raw was updated before it, not since: wait.
    assert _tick(daemon, clock, _at(11, 1)) == TickStatus.SKIPPED
    assert _automation_runs(parts) == []

    _materialize(parts, "raw")
    assert _tick(daemon, clock, _at(11, 5)) == TickStatus.SUCCESS
    (first,) = _automation_runs(parts)
    assert first.asset_selection == ("hourly",)
    run_queued(parts)
    why = parts.instance.get_automation_evaluations("hourly", requested_only=True)[0]
    true = _true_names(why.tree)
    assert "on_cron(0 * * * *, UTC)" in true
    assert "all_deps_updated_since_cron(0 * * * *, UTC)" in true
    assert "SINCE@raw" in true

    # More updates within the same hour do not request it again.
    _materialize(parts, "raw")
    for hour, minute in ((11, 10), (11, 40), (12, 1)):
        assert _tick(daemon, clock, _at(hour, minute)) == TickStatus.SKIPPED
    assert len(_automation_runs(parts)) == 1

    # The 12:00 tick passed: once raw updates again, one more run.
    _materialize(parts, "raw")
    assert _tick(daemon, clock, _at(12, 3)) == TickStatus.SUCCESS
    run_queued(parts)
    assert _tick(daemon, clock, _at(12, 4)) == TickStatus.SKIPPED
    assert len(_automation_runs(parts)) == 2

"""The freshness checks sensor, ticked on the host on every storage backend: it launches a
check-only run of the checks never run, of those whose fresh-until time passed, and of failed
ones only once their asset materialized again; a check its runs still have to evaluate waits."""

from __future__ import annotations

from datetime import timedelta

import bakehouse as dg
from bakehouse.codeserver.loader import build_snapshot
from bakehouse.daemon.freshness_checks import sensor_tick
from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.storage import EventRecord, EventType, Instance, RunStatus
from bakehouse.storage.records import TickStatus
from tests.storage import conftest as storage_fixtures
from tests.support.materializations import store_materialization

backend = storage_fixtures.backend
db_url = storage_fixtures.db_url
open_instance = storage_fixtures.open_instance
postgres_database = storage_fixtures.postgres_database
instance = storage_fixtures.instance

T0 = 1_800_000_000.0


@dg.asset
def orders() -> int:
    return 1


@dg.asset
def clicks() -> int:
    return 2


CHECKS = dg.build_last_update_freshness_checks(
    assets=[orders, clicks], lower_bound_delta=timedelta(hours=1)
)
SNAP = build_snapshot(
    dg.Definitions(
        assets=[orders, clicks],
        asset_checks=CHECKS,
        sensors=[dg.build_sensor_for_freshness_checks(freshness_checks=CHECKS)],
    ),
    name="loc",
    module="m",
    load_seconds=0,
)
(SENSOR,) = SNAP.sensors
GRAPH = GlobalAssetGraph([SNAP])


def tick(instance: Instance, now: float) -> tuple[str, ...]:
    """Tick the sensor; the checks of the run it launched (finished at once), else ()."""
    done = sensor_tick(instance, GRAPH, SNAP, SENSOR, None, now)
    if not done.run_ids:
        assert done.status == TickStatus.SKIPPED
        return ()
    assert done.status == TickStatus.SUCCESS
    (run_id,) = done.run_ids
    run = instance.get_run(run_id)
    assert run.asset_selection == ()
    assert run.tags["bakehouse/sensor"] == "freshness_checks_sensor"
    instance.update_run(run_id, status=RunStatus.SUCCESS)
    return run.check_selection


def result(instance: Instance, asset: str, when: float, *, passed: bool, until: float) -> None:
    metadata = {"dagster/fresh_until_timestamp": {"type": "timestamp", "value": until}}
    instance.store_event(
        EventRecord(
            run_id="checks",
            event_type=EventType.ASSET_CHECK_EVALUATION,
            timestamp=when,
            asset_key=asset,
            data={
                "check_name": "freshness_check",
                "passed": passed,
                "severity": "WARN",
                "metadata": metadata if passed else {},
            },
        )
    )


def test_the_sensor_runs_each_check_only_when_its_result_could_have_changed(
    instance: Instance,
) -> None:
    assert tick(instance, T0) == ("clicks:freshness_check", "orders:freshness_check")
    result(instance, "orders", T0 + 1, passed=True, until=T0 + 3600)
    result(instance, "clicks", T0 + 1, passed=False, until=0)
    assert tick(instance, T0 + 60) == ()  # orders fresh until T0+1h; clicks waits
    assert tick(instance, T0 + 3601) == ("orders:freshness_check",)
    result(instance, "orders", T0 + 3602, passed=True, until=T0 + 7200)
    store_materialization(instance, "clicks", T0 + 3700)  # clicks may pass now
    assert tick(instance, T0 + 3800) == ("clicks:freshness_check",)


def test_a_check_its_unfinished_run_has_to_evaluate_is_not_launched_again(
    instance: Instance,
) -> None:
    first = sensor_tick(instance, GRAPH, SNAP, SENSOR, None, T0)
    assert first.run_ids
    again = sensor_tick(instance, GRAPH, SNAP, SENSOR, None, T0 + 60)
    assert again.status == TickStatus.SKIPPED
    assert again.run_ids == ()

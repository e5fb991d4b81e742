"""``target=`` on schedules and sensors, from the examples of Dagster's automation docs, run
unchanged but for ``import bakehouse as dg``."""

from __future__ import annotations

import pytest

import bakehouse as dg


@dg.asset
def orders() -> list[int]:
    return [1, 2]


@dg.asset
def order_report(orders: list[int]) -> int:
    return sum(orders)


@dg.asset
def unrelated() -> int:
    return 0


ecommerce_job = dg.define_asset_job("ecommerce_job", selection=[orders, order_report])


def ran(defs: dg.Definitions, job_name: str) -> set[str]:
    result = defs.resolve_job_def(job_name).execute_in_process()
    assert result.success
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def test_a_schedule_targets_a_job() -> None:
    ecommerce_schedule = dg.ScheduleDefinition(
        name="ecommerce_schedule",
        target=ecommerce_job,
        cron_schedule="15 5 * * 1-5",
    )
    assert ecommerce_schedule.job_name == "ecommerce_job"


@pytest.mark.parametrize(
    "target",
    [
        "orders+",
        dg.AssetSelection.assets(orders).downstream(),
        [orders, order_report],
        ["orders", dg.AssetKey("order_report")],
    ],
)
def test_a_schedule_targets_assets_through_a_job_of_its_own(target: object) -> None:
    daily_refresh = dg.ScheduleDefinition(
        name="daily_refresh", cron_schedule="0 0 * * *", target=target
    )
    defs = dg.Definitions(assets=[orders, order_report, unrelated], schedules=[daily_refresh])
    dg.Definitions.validate_loadable(defs)
    # Dagster's name for the job it builds for the schedule.
    assert daily_refresh.job_name == "__anonymous_asset_job_daily_refresh"
    assert ran(defs, daily_refresh.job_name) == {"orders", "order_report"}


def test_the_schedule_decorator_takes_a_target() -> None:
    @dg.schedule(cron_schedule="0 0 * * *", target=orders)
    def nightly(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        return dg.RunRequest()

    defs = dg.Definitions(assets=[orders, unrelated], schedules=[nightly])
    assert ran(defs, nightly.job_name or "") == {"orders"}


def test_a_sensor_targets_a_job_or_assets() -> None:
    @dg.sensor(target=ecommerce_job, minimum_interval_seconds=5)
    def new_file_sensor() -> dg.RunRequest:
        return dg.RunRequest(run_key="file-1")

    @dg.sensor(target=dg.AssetSelection.assets("orders"))
    def orders_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        return dg.SensorResult(run_requests=[dg.RunRequest(run_key="a")])

    assert new_file_sensor.job_name == "ecommerce_job"
    defs = dg.Definitions(assets=[orders, order_report], sensors=[new_file_sensor, orders_sensor])
    dg.Definitions.validate_loadable(defs)
    assert ran(defs, orders_sensor.job_name or "") == {"orders"}
    [request] = orders_sensor.evaluate(dg.build_sensor_context()).run_requests or []
    assert request.run_key == "a"


def test_an_asset_sensor_targets_a_job() -> None:
    @dg.asset_sensor(asset_key=dg.AssetKey("orders"), target=ecommerce_job)
    def orders_updated(
        context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry
    ) -> dg.RunRequest:
        return dg.RunRequest(run_key=context.cursor)

    assert orders_updated.job_name == "ecommerce_job"


def test_target_and_job_together_are_refused() -> None:
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="not both"):
        dg.ScheduleDefinition(name="both", cron_schedule="0 0 * * *", target="*", job=ecommerce_job)
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="not both"):

        @dg.sensor(target="*", job=ecommerce_job)
        def both_sensor() -> None: ...


def test_a_target_that_is_not_a_job_or_assets_is_refused() -> None:
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="target= takes a job"):
        dg.ScheduleDefinition(name="bad", cron_schedule="0 0 * * *", target=3)

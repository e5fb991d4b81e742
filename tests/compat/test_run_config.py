"""`RunConfig` objects wherever run config is taken, from the examples of Dagster's docs on
run configuration, schedules and sensors, run unchanged but for ``import bakehouse as dg``."""

from __future__ import annotations

import datetime

import pytest

import bakehouse as dg


class AssetConfig(dg.Config):
    scheduled_date: str


seen: list[str] = []


@dg.asset
def configurable_asset(context: dg.AssetExecutionContext, config: AssetConfig) -> None:
    context.log.info(config.scheduled_date)
    seen.append(config.scheduled_date)


asset_job = dg.define_asset_job(name="asset_job", selection="configurable_asset")


@dg.schedule(job=asset_job, cron_schedule="0 0 * * *")
def configurable_job_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    # Optional here, a datetime in Dagster: kept as the course writes it.
    scheduled_date = context.scheduled_execution_time.strftime("%Y-%m-%d")  # type: ignore[union-attr]
    return dg.RunRequest(
        run_key=None,
        run_config=dg.RunConfig(
            ops={"configurable_asset": AssetConfig(scheduled_date=scheduled_date)}
        ),
        tags={"date": scheduled_date},
    )


def run_with(run_config: object) -> list[str]:
    seen.clear()
    assert dg.materialize([configurable_asset], run_config=run_config).success
    return list(seen)


def test_a_run_request_of_a_schedule_holds_plain_run_config_that_runs() -> None:
    context = dg.build_schedule_context(scheduled_execution_time=datetime.datetime(2020, 1, 1))
    run_request = configurable_job_schedule(context)
    assert run_request.run_config == {
        "ops": {"configurable_asset": {"config": {"scheduled_date": "2020-01-01"}}}
    }
    assert run_with(run_request.run_config) == ["2020-01-01"]


def test_a_schedule_definition_takes_a_run_config_object() -> None:
    every_day = dg.ScheduleDefinition(
        job=asset_job,
        cron_schedule="0 0 * * *",
        run_config=dg.RunConfig(ops={"configurable_asset": AssetConfig(scheduled_date="fixed")}),
    )
    requests = every_day.evaluate(datetime.datetime(2024, 5, 1, tzinfo=datetime.timezone.utc))
    assert isinstance(requests, list)
    [request] = requests
    assert run_with(request.run_config) == ["fixed"]


def test_a_schedule_function_may_return_a_run_config_object() -> None:
    @dg.schedule(job=asset_job, cron_schedule="0 0 * * *")
    def returns_config(context: dg.ScheduleEvaluationContext) -> dg.RunConfig:
        day = context.scheduled_execution_time.strftime("%Y-%m-%d")  # type: ignore[union-attr]
        return dg.RunConfig(ops={"configurable_asset": AssetConfig(scheduled_date=day)})

    requests = returns_config.evaluate(datetime.datetime(2024, 5, 1, tzinfo=datetime.timezone.utc))
    assert isinstance(requests, list)
    assert run_with(requests[0].run_config) == ["2024-05-01"]


def test_a_sensor_run_request_takes_a_run_config_object() -> None:
    @dg.sensor(job=asset_job)
    def my_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    run_key="a",
                    run_config=dg.RunConfig(
                        ops={"configurable_asset": AssetConfig(scheduled_date="from sensor")}
                    ),
                )
            ]
        )

    result = my_sensor.evaluate(dg.build_sensor_context())
    [request] = result.run_requests or []
    assert run_with(request.run_config) == ["from sensor"]


def test_a_job_takes_a_run_config_object_as_its_config() -> None:
    job = dg.define_asset_job(
        name="configured_job",
        selection="configurable_asset",
        config=dg.RunConfig(ops={"configurable_asset": AssetConfig(scheduled_date="job")}),
    )
    defs = dg.Definitions(assets=[configurable_asset], jobs=[job])
    seen.clear()
    assert defs.resolve_job_def("configured_job").execute_in_process().success
    assert seen == ["job"]


def test_materialize_takes_a_run_config_object_and_a_dict_of_config_objects() -> None:
    config = AssetConfig(scheduled_date="obj")
    assert run_with(dg.RunConfig(ops={"configurable_asset": config})) == ["obj"]
    assert run_with({"ops": {"configurable_asset": config}}) == ["obj"]


def test_run_configs_with_the_same_values_are_equal() -> None:
    first = dg.RunConfig(ops={"configurable_asset": AssetConfig(scheduled_date="x")})
    second = dg.RunConfig(ops={"configurable_asset": AssetConfig(scheduled_date="x")})
    assert first == second


def test_run_config_that_is_neither_a_dict_nor_a_run_config_is_refused() -> None:
    with pytest.raises(TypeError, match="run config must be a dict or a RunConfig"):
        dg.RunRequest(run_config=["ops"])

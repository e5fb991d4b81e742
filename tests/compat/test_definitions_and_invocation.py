"""Issue 12 item 12: calling sensors and schedules directly (Dagster's "Testing sensors" and
"Testing schedules" docs) and the `Definitions` accessors tests use, with
``import bakehouse as dg``."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

import bakehouse as dg


@dg.asset
def orders() -> list[int]:
    return [1, 2, 3]


@dg.asset
def order_count(orders: list[int]) -> int:
    return len(orders)


orders_job = dg.define_asset_job("orders_job", [orders, order_count])


def test_a_sensor_without_context_yields_run_requests_or_a_skip(tmp_path: Path) -> None:
    directory = tmp_path / "inbox"
    directory.mkdir()

    @dg.sensor(job=orders_job)
    def my_directory_sensor_with_skip_reasons():  # type: ignore[no-untyped-def]
        has_files = False
        for filename in sorted(p.name for p in directory.iterdir()):
            has_files = True
            yield dg.RunRequest(run_key=filename, tags={"file": filename})
        if not has_files:
            yield dg.SkipReason(f"No files found in {directory}.")

    skipped = list(my_directory_sensor_with_skip_reasons())
    assert len(skipped) == 1
    assert isinstance(skipped[0], dg.SkipReason)
    (directory / "a.csv").write_text("x")
    requests = list(my_directory_sensor_with_skip_reasons())
    assert [r.run_key for r in requests] == ["a.csv"]


def test_a_sensor_with_a_context_returns_its_sensor_result() -> None:
    @dg.sensor(job=orders_job)
    def counting(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        seen = int(context.cursor or 0)
        return dg.SensorResult(
            run_requests=[dg.RunRequest(run_key=str(seen))], cursor=str(seen + 1)
        )

    result = counting(dg.build_sensor_context(cursor="4"))
    assert isinstance(result, dg.SensorResult)
    assert result.cursor == "5"
    assert [r.run_key for r in result.run_requests or []] == ["4"]


def test_a_schedule_called_with_a_built_context() -> None:
    @dg.schedule(job=orders_job, cron_schedule="0 0 * * *")
    def configurable_job_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        # Optional here, a datetime in Dagster: kept as the course writes it.
        scheduled_date = context.scheduled_execution_time.strftime("%Y-%m-%d")  # type: ignore[union-attr]
        return dg.RunRequest(run_key=None, tags={"date": scheduled_date})

    context = dg.build_schedule_context(scheduled_execution_time=datetime.datetime(2020, 1, 1))
    run_request = configurable_job_schedule(context)
    assert run_request.tags == {"date": "2020-01-01"}


def test_a_schedule_returning_a_skip_reason() -> None:
    @dg.schedule(job=orders_job, cron_schedule="@daily")
    def never(context: dg.ScheduleEvaluationContext) -> dg.SkipReason:
        return dg.SkipReason("not today")

    assert never(dg.build_schedule_context()).skip_message == "not today"


def test_the_asset_graph_lists_every_key() -> None:
    source = dg.AssetSpec("raw_orders")

    @dg.asset(deps=[source])
    def cleaned() -> None:
        return None

    defs = dg.Definitions(assets=[orders, order_count, source, cleaned])
    assert defs.resolve_asset_graph().get_all_asset_keys() == {
        dg.AssetKey("orders"),
        dg.AssetKey("order_count"),
        dg.AssetKey("raw_orders"),
        dg.AssetKey("cleaned"),
    }


def test_definitions_getters_and_running_a_job_got_from_them() -> None:
    @dg.sensor(job=orders_job)
    def my_sensor() -> None:
        return None

    daily = dg.ScheduleDefinition(job=orders_job, cron_schedule="@daily", name="daily")
    defs = dg.Definitions(
        assets=[orders, order_count], jobs=[orders_job], sensors=[my_sensor], schedules=[daily]
    )
    assert defs.get_sensor_def("my_sensor") is my_sensor
    assert defs.get_schedule_def("daily") is daily
    assert defs.get_assets_def("order_count") is order_count
    assert defs.get_assets_def(dg.AssetKey("orders")) is orders
    job = defs.get_job_def("orders_job")
    assert job.name == "orders_job"
    result = job.execute_in_process()
    assert result.success
    assert result.output_for_node("order_count") == 3
    assert defs.resolve_job_def("orders_job").execute_in_process().success


def test_the_implicit_global_asset_job_materializes_everything() -> None:
    defs = dg.Definitions(assets=[orders, order_count])
    job = defs.get_implicit_global_asset_job_def()
    assert job.name == "__ASSET_JOB"
    result = job.execute_in_process()
    assert result.success
    assert result.output_for_node("order_count") == 3


def test_merge_holds_everything_of_both() -> None:
    first = dg.Definitions(assets=[orders], resources={"a": 1})
    second = dg.Definitions(assets=[order_count], jobs=[orders_job], resources={"b": 2})
    merged = dg.Definitions.merge(first, second)
    assert merged.resolve_asset_graph().get_all_asset_keys() == {
        dg.AssetKey("orders"),
        dg.AssetKey("order_count"),
    }
    assert merged.resources == {"a": 1, "b": 2}
    assert merged.get_job_def("orders_job").execute_in_process().success


def test_a_job_defined_alone_says_how_to_run_it() -> None:
    # Differs on purpose in wording only: Dagster's unresolved asset job has no
    # execute_in_process at all; ours says which call runs it.
    alone = dg.define_asset_job("alone", [orders])
    with pytest.raises(dg.DefinitionError, match=r"get_job_def\('alone'\)"):
        alone.execute_in_process()


class UsersAPI(dg.ConfigurableResource):
    url: str

    def fetch_users(self) -> list[str]:
        raise NotImplementedError("the test passes its own")


@dg.sensor(job=orders_job)
def process_new_users_sensor(context: dg.SensorEvaluationContext, users_api: UsersAPI):  # type: ignore[no-untyped-def]
    last_user = int(context.cursor) if context.cursor else 0
    users = users_api.fetch_users()
    num_users = len(users)
    for user_id in users[last_user:]:
        yield dg.RunRequest(run_key=user_id, tags={"user_id": user_id})
    context.update_cursor(str(num_users))


def test_a_sensor_gets_its_resources_from_the_built_context() -> None:
    class FakeUsersAPI:
        def fetch_users(self) -> list[str]:
            return ["1", "2", "3"]

    context = dg.build_sensor_context(resources={"users_api": FakeUsersAPI()})
    run_requests = process_new_users_sensor(context)
    assert len(run_requests) == 3
    assert context.cursor == "3"


def test_a_schedule_gets_its_resources_and_instance_from_the_built_context() -> None:
    @dg.schedule(job=orders_job, cron_schedule="@daily")
    def with_resource(context: dg.ScheduleEvaluationContext, greeting: str) -> dg.RunRequest:
        return dg.RunRequest(
            tags={"greeting": greeting, "has_instance": str(bool(context.instance))}
        )

    with dg.DagsterInstance.ephemeral() as instance:
        context = dg.build_schedule_context(instance=instance, resources={"greeting": "hi"})
        assert with_resource(context).tags == {"greeting": "hi", "has_instance": "True"}

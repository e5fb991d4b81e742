# kind: tests comparing a job's selection with AssetSelection.assets(...) and reading its config
# uses: dagster.AssetSelection.assets, dagster.define_asset_job, dagster.ScheduleDefinition
import dagster as dg


@dg.asset
def a() -> int:
    return 1


@dg.asset
def b(a: int) -> int:
    return a


my_job = dg.define_asset_job(
    name="my_job",
    selection=[a, b],
    config={"ops": {"a": {"config": {}}}},
)
assert my_job.selection == dg.AssetSelection.assets(a, b)
schedule = dg.ScheduleDefinition(job=my_job, cron_schedule="0 0 5 * *")
assert schedule.cron_schedule == "0 0 5 * *"
assert schedule.job == my_job

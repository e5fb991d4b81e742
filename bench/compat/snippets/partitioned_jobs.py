# kind: monthly and weekly partitions, partitioned asset jobs built from AssetSelection arithmetic,
#   schedules
# uses: dagster.MonthlyPartitionsDefinition, dagster.WeeklyPartitionsDefinition,
#   dagster.define_asset_job, dagster.AssetSelection.assets, dagster.AssetSelection.all,
#   dagster.ScheduleDefinition, dagster.AssetExecutionContext, dagster.Definitions.get_job_def,
#   dagster.Definitions.get_schedule_def
import dagster as dg

monthly = dg.MonthlyPartitionsDefinition(start_date="2023-01-01", end_date="2023-04-01")
weekly = dg.WeeklyPartitionsDefinition(start_date="2023-01-01", end_date="2023-04-01")


@dg.asset(partitions_def=monthly)
def trips(context: dg.AssetExecutionContext) -> str:
    return context.partition_key[:-3]


@dg.asset(partitions_def=weekly, deps=["trips"])
def trips_by_week(context: dg.AssetExecutionContext) -> None:
    context.log.info(context.partition_key)


by_week = dg.AssetSelection.assets("trips_by_week")
trip_update_job = dg.define_asset_job(
    name="trip_update_job", partitions_def=monthly, selection=dg.AssetSelection.all() - by_week
)
weekly_update_job = dg.define_asset_job(
    name="weekly_update_job", partitions_def=weekly, selection=by_week
)
schedule = dg.ScheduleDefinition(job=trip_update_job, cron_schedule="0 0 5 * *")
defs = dg.Definitions(
    assets=[trips, trips_by_week], jobs=[trip_update_job, weekly_update_job], schedules=[schedule]
)
assert defs.get_job_def("trip_update_job")
assert defs.get_schedule_def("trip_update_job_schedule")
result = dg.materialize([trips], partition_key="2023-02-01")
assert result.success
assert result.output_for_node("trips") == "2023-02"

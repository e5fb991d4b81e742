# kind: sensors tested with DagsterInstance.ephemeral() and build_sensor_context, yielding
#   RunRequest/SkipReason
# uses: dagster.build_sensor_context, dagster.DagsterInstance.ephemeral, dagster.SkipReason,
#   dagster.RunRequest, dagster.sensor, dagster.define_asset_job
import dagster as dg


@dg.asset
def files() -> None:
    pass


my_job = dg.define_asset_job(name="my_job", selection=[files])


@dg.sensor(job=my_job, minimum_interval_seconds=5)
def my_sensor():
    yield dg.SkipReason("No new files found")


context = dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral())
assert next(iter(my_sensor(context))) == dg.SkipReason("No new files found")

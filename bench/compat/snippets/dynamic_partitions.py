# kind: dynamic partitions added from a sensor's SensorResult
# uses: dagster.DynamicPartitionsDefinition, dagster.DynamicPartitionsDefinition.build_add_request,
#   dagster.SensorResult, dagster.RunRequest, dagster.sensor, dagster.build_sensor_context
import dagster as dg

files = dg.DynamicPartitionsDefinition(name="files")


@dg.asset(partitions_def=files)
def import_file(context: dg.AssetExecutionContext) -> str:
    return context.partition_key


job = dg.define_asset_job("import_job", selection=[import_file])


@dg.sensor(target=job)
def file_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key="2018-01-22", partition_key="2018-01-22")],
        dynamic_partitions_requests=[files.build_add_request(["2018-01-22"])],
    )


result = file_sensor(dg.build_sensor_context())
assert result.run_requests[0].partition_key == "2018-01-22"

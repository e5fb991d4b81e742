# kind: a sensor whose target is an asset name, as the ETL tutorial writes it
# uses: dagster.sensor, dagster.SensorEvaluationContext, dagster.RunRequest, dagster.SensorResult,
#   dagster.Definitions.get_sensor_def
import dagster as dg


class AdhocRequestConfig(dg.Config):
    start_date: str


@dg.asset
def adhoc_request(config: AdhocRequestConfig) -> str:
    return config.start_date


@dg.sensor(target="adhoc_request")
def adhoc_request_sensor(context: dg.SensorEvaluationContext):
    request = {"start_date": "2024-01-01"}
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key="adhoc_request_a.json",
                run_config={"ops": {"adhoc_request": {"config": {**request}}}},
            )
        ],
        cursor="a.json",
    )


defs = dg.Definitions(assets=[adhoc_request], sensors=[adhoc_request_sensor])
sensor = defs.get_sensor_def("adhoc_request_sensor")
result = sensor(dg.build_sensor_context())
assert result.run_requests[0].run_key == "adhoc_request_a.json"

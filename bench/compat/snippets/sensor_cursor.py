# kind: a cursor sensor returning SensorResult with RunRequests carrying op config, tested by
#   calling it
# uses: dagster.SensorResult, dagster.sensor, dagster.SensorEvaluationContext, dagster.RunRequest,
#   dagster.build_sensor_context, dagster.define_asset_job, dagster.Config
import json

import dagster as dg


class RequestConfig(dg.Config):
    filename: str


@dg.asset
def adhoc_request(config: RequestConfig) -> str:
    return config.filename


adhoc_request_job = dg.define_asset_job(name="adhoc_request_job", selection=[adhoc_request])


@dg.sensor(job=adhoc_request_job)
def adhoc_request_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    seen = json.loads(context.cursor) if context.cursor else {}
    runs = [
        dg.RunRequest(
            run_key=f"adhoc_{name}",
            run_config={"ops": {"adhoc_request": {"config": {"filename": name}}}},
        )
        for name in ("a.json", "b.json")
        if name not in seen
    ]
    return dg.SensorResult(run_requests=runs, cursor=json.dumps({"a.json": 1, "b.json": 1}))


result = adhoc_request_sensor(dg.build_sensor_context(cursor=json.dumps({"a.json": 1})))
assert [r.run_key for r in result.run_requests] == ["adhoc_b.json"]

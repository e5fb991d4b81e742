"""Course-style code, written as a Dagster course would write it, materialized for real.

Only the public API: ``import bakehouse as dg``.
"""

from __future__ import annotations

import pytest

import bakehouse as dg

# -- a small taxi project, as in the Dagster Essentials course -----------------------------


class WeatherApi(dg.ConfigurableResource):
    """A weather service client; the key comes from the environment."""

    base_url: str
    api_key: str

    def forecast(self, city: str) -> dict[str, object]:
        return {"city": city, "temp_c": 21.5, "key_ends_with": self.api_key[-2:]}


class TripFilter(dg.Config):
    min_km: float = 0.0
    label: str = "all trips"


@dg.asset(
    group_name="raw",
    kinds={"python", "csv"},
    owners=["team:ingest"],
    tags={"tier": "bronze"},
    code_version="1",
)
def taxi_zones() -> list[dict[str, object]]:
    """The city's taxi zones."""
    return [{"zone": 1, "borough": "Manhattan"}, {"zone": 2, "borough": "Queens"}]


@dg.asset(key_prefix="raw", group_name="raw", compute_kind="python", owners=["ana@example.com"])
def trips(context: dg.AssetExecutionContext) -> dg.Output[list[dict[str, float]]]:
    rows = [
        {"id": 1, "zone": 1, "km": 1.5},
        {"id": 2, "zone": 2, "km": 7.0},
        {"id": 3, "zone": 1, "km": 3.0},
    ]
    context.log.info(f"fetched {len(rows)} trips")
    context.add_output_metadata({"first_trip_id": rows[0]["id"]})
    return dg.Output(rows, metadata={"num_rows": len(rows)})


@dg.asset(
    ins={"trips": dg.AssetIn(key=["raw", "trips"])}, group_name="metrics", tags={"tier": "gold"}
)
def trips_by_zone(
    trips: list[dict[str, float]], taxi_zones: list[dict[str, object]], config: TripFilter
) -> dict[int, int]:
    zones = {int(z["zone"]) for z in taxi_zones}  # type: ignore[call-overload]
    counts = dict.fromkeys(sorted(zones), 0)
    for trip in trips:
        if trip["km"] >= config.min_km:
            counts[int(trip["zone"])] += 1
    return counts


@dg.asset(deps=["raw/trips", taxi_zones], group_name="reports")
def trips_report() -> dg.MaterializeResult:
    return dg.MaterializeResult(
        metadata={
            "summary": dg.MetadataValue.md("# Trips\n3 trips in 2 zones"),
            "num_trips": dg.MetadataValue.int(3),
            "avg_km": dg.MetadataValue.float(3.833),
            "complete": dg.MetadataValue.bool(True),
            "by_zone": dg.MetadataValue.json({"1": 2, "2": 1}),
            "dashboard": dg.MetadataValue.url("https://example.com/trips"),
            "file": dg.MetadataValue.path("/data/reports/trips.md"),
            "preview": dg.MetadataValue.table(
                [dg.TableRecord({"zone": 1, "trips": 2}), dg.TableRecord({"zone": 2, "trips": 1})],
                schema=dg.TableSchema(
                    [dg.TableColumn("zone", "int"), dg.TableColumn("trips", "int")]
                ),
            ),
        }
    )


@dg.multi_asset(
    outs={
        "short_trips": dg.AssetOut(group_name="metrics"),
        "long_trips": dg.AssetOut(group_name="metrics", key_prefix="big"),
    },
    ins={"trips": dg.AssetIn(key=["raw", "trips"])},
)
def split_trips(trips: list[dict[str, float]]) -> tuple[list[int], list[int]]:
    short = [int(t["id"]) for t in trips if t["km"] < 5]
    long = [int(t["id"]) for t in trips if t["km"] >= 5]
    return short, long


@dg.multi_asset(
    specs=[
        dg.AssetSpec("zones_export", deps=[taxi_zones], group_name="exports"),
        dg.AssetSpec("trips_export", deps=["raw/trips"], group_name="exports"),
    ]
)
def exports(context: dg.AssetExecutionContext):  # type: ignore[no-untyped-def]
    context.log.info("exporting")
    yield dg.MaterializeResult(asset_key="zones_export", metadata={"files": 1})
    yield dg.MaterializeResult(asset_key="trips_export", metadata={"files": 2})


weather_station = dg.AssetSpec(
    "weather_station", group_name="external", description="Run by the city, not by us."
)


@dg.asset(deps=[weather_station], group_name="raw")
def city_weather(weather: WeatherApi) -> dict[str, object]:
    return weather.forecast("NYC")


ALL: list[dg.AssetsDefinition | dg.AssetSpec] = [
    taxi_zones,
    trips,
    trips_by_zone,
    trips_report,
    split_trips,
    exports,
    weather_station,
]
ALL_WITH_WEATHER: list[dg.AssetsDefinition | dg.AssetSpec] = [*ALL, city_weather]


def weather_resources() -> dict[str, WeatherApi]:
    return {"weather": WeatherApi(base_url="https://api.example", api_key=dg.EnvVar("WX_KEY"))}


def metadata_of(result: dg.ExecuteInProcessResult, key: str) -> dict[str, dg.MetadataValue]:
    for event in result.get_asset_materialization_events():
        if event.asset_key == dg.AssetKey.from_user_string(key):
            return dict(event.materialization.metadata)
    raise AssertionError(f"{key} was not materialized")


# -- materializing for real -----------------------------------------------------------------


def test_the_project_materializes_with_resources_env_vars_and_run_config(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WX_KEY", "secret-42")

    result = dg.materialize(
        ALL_WITH_WEATHER,
        resources=weather_resources(),
        run_config={"ops": {"trips_by_zone": {"config": {"min_km": 2.0}}}},
    )

    assert result.success
    assert result.asset_value("raw/trips")[0] == {"id": 1, "zone": 1, "km": 1.5}
    assert result.asset_value("trips_by_zone") == {1: 1, 2: 1}
    assert result.asset_value("short_trips") == [1, 3]
    assert result.asset_value(dg.AssetKey(["big", "long_trips"])) == [2]
    assert result.asset_value("city_weather") == {
        "city": "NYC",
        "temp_c": 21.5,
        "key_ends_with": "42",
    }
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == {
        "taxi_zones",
        "raw/trips",
        "trips_by_zone",
        "trips_report",
        "short_trips",
        "big/long_trips",
        "zones_export",
        "trips_export",
        "city_weather",
    }


def test_run_config_as_a_typed_run_config() -> None:
    result = dg.materialize(
        [taxi_zones, trips, trips_by_zone],
        run_config=dg.RunConfig(ops={"trips_by_zone": TripFilter(min_km=5.0)}),
    )
    assert result.asset_value("trips_by_zone") == {1: 0, 2: 1}


def test_output_metadata_and_context_metadata_reach_the_materialization() -> None:
    result = dg.materialize([trips])

    metadata = metadata_of(result, "raw/trips")
    assert metadata["num_rows"].value == 3
    assert metadata["first_trip_id"].value == 1
    assert metadata["num_rows"] == dg.MetadataValue.int(3)


def test_every_metadata_kind_is_recorded_with_its_type() -> None:
    result = dg.materialize([trips_report])

    metadata = metadata_of(result, "trips_report")
    assert metadata["summary"] == dg.MetadataValue.md("# Trips\n3 trips in 2 zones")
    assert metadata["num_trips"] == dg.MetadataValue.int(3)
    assert metadata["avg_km"] == dg.MetadataValue.float(3.833)
    assert metadata["complete"] == dg.MetadataValue.bool(True)
    assert metadata["by_zone"] == dg.MetadataValue.json({"1": 2, "2": 1})
    assert metadata["dashboard"] == dg.MetadataValue.url("https://example.com/trips")
    assert metadata["file"] == dg.MetadataValue.path("/data/reports/trips.md")
    preview = metadata["preview"]
    assert preview.type == "table"
    assert preview.value["records"] == [{"zone": 1, "trips": 2}, {"zone": 2, "trips": 1}]
    assert [c["name"] for c in preview.value["columns"]] == ["zone", "trips"]
    # A MaterializeResult writes no value for an IO manager to load.
    with pytest.raises(KeyError):
        result.asset_value("trips_report")


def test_a_multi_asset_with_specs_yields_one_result_per_asset() -> None:
    result = dg.materialize([exports])

    assert metadata_of(result, "zones_export")["files"].value == 1
    assert metadata_of(result, "trips_export")["files"].value == 2
    [zones, trips_] = result.asset_materializations_for_node("exports")
    assert (zones.asset_key, trips_.asset_key) == (
        dg.AssetKey("zones_export"),
        dg.AssetKey("trips_export"),
    )


def test_context_log_lines_are_log_events_of_the_run() -> None:
    result = dg.materialize([trips, exports])

    logs = [(e.step_key, e.message) for e in result.all_events if e.event_type == "LOG"]
    assert logs == [("raw__trips", "fetched 3 trips"), ("exports", "exporting")]


def test_a_missing_env_var_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WX_KEY", raising=False)

    with pytest.raises(dg.DefinitionError) as err:
        dg.materialize([city_weather], resources=weather_resources())

    assert str(err.value) == (
        "resource 'weather' field 'api_key': environment variable WX_KEY is not set"
    )


def test_a_resource_that_is_not_provided_is_named_before_anything_runs() -> None:
    with pytest.raises(dg.DefinitionError) as err:
        dg.materialize([city_weather])
    assert "asset 'city_weather' requires resource 'weather', which is not provided" in str(
        err.value
    )
    assert str(err.value).startswith(f"{__file__}:")


def test_materialize_to_memory() -> None:
    result = dg.materialize_to_memory([taxi_zones, trips, split_trips])
    assert result.success
    assert result.asset_value("big/long_trips") == [2]
    assert result.output_for_node("split_trips", "long_trips") == [2]
    assert result.output_for_node("raw__trips")[0]["id"] == 1
    assert "path" not in metadata_of(result, "raw/trips")


def test_external_assets_are_inputs_never_steps() -> None:
    result = dg.materialize_to_memory(ALL)
    materialized = {str(e.asset_key) for e in result.get_asset_materialization_events()}
    assert "weather_station" not in materialized
    with pytest.raises(dg.BakehouseError, match="nothing to materialize"):
        dg.materialize([weather_station])


# -- selecting by the attributes a course sets -----------------------------------------------


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        (
            "+group:metrics",
            {"trips_by_zone", "short_trips", "big/long_trips", "raw/trips", "taxi_zones"},
        ),
        ("kind:csv", {"taxi_zones"}),
        ("kind:python", {"taxi_zones", "raw/trips"}),
        ("owner:team:ingest", {"taxi_zones"}),
        ("owner:ana@example.com", {"raw/trips"}),
        ("+tag:tier=gold", {"trips_by_zone", "raw/trips", "taxi_zones"}),
        ("+trips_report", {"taxi_zones", "raw/trips", "trips_report"}),
        # exports cannot run part of itself: selecting trips_export runs zones_export too.
        ("trips_export", {"trips_export", "zones_export"}),
    ],
)
def test_materialize_a_selection(selection: str, expected: set[str]) -> None:
    result = dg.materialize_to_memory(ALL, selection=selection)
    materialized = {str(e.asset_key) for e in result.get_asset_materialization_events()}
    assert materialized == expected


def test_the_decorator_arguments_are_on_the_asset() -> None:
    [zones_spec] = taxi_zones.specs
    assert zones_spec.group_name == "raw"
    assert zones_spec.kinds == {"python", "csv"}
    assert list(zones_spec.owners) == ["team:ingest"]
    assert dict(zones_spec.tags) == {"tier": "bronze"}
    assert zones_spec.code_version == "1"
    assert zones_spec.description == "The city's taxi zones."
    assert trips.key == dg.AssetKey(["raw", "trips"])
    [trips_spec] = trips.specs
    assert trips_spec.kinds == {"python"}


# -- calling asset functions directly, as unit tests do --------------------------------------


def test_direct_invocation_with_a_built_context() -> None:
    output = trips(dg.build_asset_context())
    assert output.metadata == {"num_rows": 3}
    assert len(output.value) == 3


def test_direct_invocation_with_inputs_config_and_resources() -> None:
    counts = trips_by_zone(
        trips=[{"id": 1, "zone": 2, "km": 9.0}],
        taxi_zones=[{"zone": 2, "borough": "Queens"}],
        config=TripFilter(min_km=1.0),
    )
    assert counts == {2: 1}
    forecast = city_weather(weather=WeatherApi(base_url="u", api_key="k-99"))
    assert forecast["key_ends_with"] == "99"


def test_direct_invocation_reads_env_vars_of_resources_as_a_run_would(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WX_KEY", "direct-77")

    forecast = city_weather(weather=weather_resources()["weather"])
    context = dg.build_asset_context(resources=weather_resources())

    assert forecast["key_ends_with"] == "77"
    assert context.resources.weather.api_key == "direct-77"
    monkeypatch.delenv("WX_KEY")
    with pytest.raises(dg.DefinitionError, match="environment variable WX_KEY is not set"):
        city_weather(weather=weather_resources()["weather"])


# -- Definitions and jobs ----------------------------------------------------------------------


def test_definitions_hold_jobs_resources_and_assets_and_merge() -> None:
    nightly = dg.define_asset_job(
        "nightly_metrics", selection=dg.AssetSelection.groups("metrics").upstream()
    )
    defs = dg.Definitions(assets=ALL_WITH_WEATHER, jobs=[nightly], resources=weather_resources())

    assert defs.get_job_def("nightly_metrics") is nightly
    assert defs.get_assets_def("raw/trips") is trips
    assert defs.get_assets_def("big/long_trips") is split_trips
    merged = dg.Definitions.merge(defs, dg.Definitions(assets=[trips]))
    assert merged.assets.count(trips) == 1
    with pytest.raises(dg.DefinitionError, match="no job named 'weekly'"):
        defs.get_job_def("weekly")

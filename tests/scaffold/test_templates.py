"""Every template is commented, loads as written, and its definitions do what they say."""

from __future__ import annotations

import datetime as dt

import pytest

import bakehouse as dg
from bakehouse.project.settings import read_project
from bakehouse.scaffold.defs import PYTHON_KINDS, scaffold_python_defs
from tests.scaffold.conftest import Project


def load(project: Project, kind: str, path: str) -> dg.Definitions:
    project.write(
        "defs/raw/orders.py", "import bakehouse as dg\n\n@dg.asset\ndef orders():\n    return [1]\n"
    )
    settings = read_project(project.root / "pyproject.toml")
    scaffold_python_defs(settings, kind, path, force=False)
    text = project.path(f"defs/{path}").read_text()
    assert text.startswith('"""')  # a docstring says what it is and how it was made
    assert "bh scaffold defs" in text
    defs = project.load()
    defs.validate()
    return defs


@pytest.mark.parametrize("kind", PYTHON_KINDS)
def test_each_template_loads(project: Project, kind: str) -> None:
    load(project, kind, f"things/{kind}_thing.py")


def test_the_asset_materializes(project: Project) -> None:
    defs = load(project, "asset", "sales.py")
    result = dg.materialize(defs.assets)
    assert result.asset_value("sales") == [{"id": 1, "amount": 120}, {"id": 2, "amount": 80}]


def test_the_multi_asset_materializes_both(project: Project) -> None:
    defs = load(project, "multi_asset", "stats.py")
    result = dg.materialize(defs.assets)
    assert result.asset_value("stats_summary") == {"rows": 2, "total": 200}


def test_the_schedule_asks_for_a_run_each_night(project: Project) -> None:
    defs = load(project, "schedule", "nightly.py")
    schedule = defs.get_schedule_def("nightly")
    assert schedule.cron_schedule == "0 2 * * *"
    assert defs.resolve_job_keys(schedule.job) == [dg.AssetKey("orders")]
    tick = dt.datetime(2026, 1, 2, 2, 0, tzinfo=dt.timezone.utc)
    (request,) = schedule.evaluate(tick)
    assert request.run_key == tick.isoformat()


def test_the_sensor_asks_for_one_run_per_new_file(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project.root)
    defs = load(project, "sensor", "watch.py")
    sensor = defs.get_sensor_def("watch")
    assert isinstance(sensor.evaluate(dg.build_sensor_context()).skip_reason, dg.SkipReason)
    incoming = project.root / "data" / "incoming"
    incoming.mkdir(parents=True)
    (incoming / "a.csv").write_text("x\n")
    result = sensor.evaluate(dg.build_sensor_context())
    assert [r.run_key.split(":")[0] for r in result.run_requests] == ["a.csv"]
    again = sensor.evaluate(dg.build_sensor_context(cursor=result.cursor))
    assert not again.run_requests


def test_the_resource_is_given_to_an_asset(project: Project) -> None:
    project.write(
        "defs/uses_api.py",
        "import bakehouse as dg\n"
        f"from {project.package}.defs.weather_api import WeatherApi\n\n"
        "@dg.asset\ndef forecast(weather_api: WeatherApi) -> dict:\n"
        "    return weather_api.fetch('today')\n",
    )
    defs = load(project, "resource", "weather_api.py")
    result = dg.materialize(defs.assets, resources=defs.resources, selection="forecast")
    assert result.asset_value("forecast") == {"url": "https://example.com/api/today"}


def test_the_job_selects_every_asset(project: Project) -> None:
    defs = load(project, "job", "everything.py")
    assert defs.resolve_job_keys(defs.get_job_def("everything")) == [dg.AssetKey("orders")]


def test_the_asset_check_checks_its_asset(project: Project) -> None:
    defs = load(project, "asset_check", "orders_check.py")
    [check] = defs.asset_checks
    assert check.check_key == dg.AssetCheckKey(dg.AssetKey("orders"), "orders_check")
    result = dg.materialize([*defs.assets, *defs.asset_checks])
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.passed
    assert evaluation.metadata == {"row_count": dg.MetadataValue.int(1)}


def test_the_asset_check_fails_on_an_empty_asset(project: Project) -> None:
    project.write(
        "defs/orders.py", "import bakehouse as dg\n\n@dg.asset\ndef orders():\n    return []\n"
    )
    settings = read_project(project.root / "pyproject.toml")
    scaffold_python_defs(settings, "asset_check", "checks/orders.py", force=False, asset="orders")
    defs = project.load()
    result = dg.materialize([*defs.assets, *defs.asset_checks])
    [evaluation] = result.get_asset_check_evaluations()
    assert (evaluation.check_name, evaluation.passed) == ("orders", False)

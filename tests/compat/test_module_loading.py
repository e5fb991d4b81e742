"""`load_assets_from_modules` and friends, from the pre-``dg`` layout of Dagster's Essentials
course and the API reference, run unchanged but for ``import bakehouse as dg``.

The course's project is written to disk as a real package and imported, as a code location
would import it.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import bakehouse as dg

TRIPS = """
import bakehouse as dg

@dg.asset
def taxi_trips_file() -> list[int]:
    return [1, 2, 3]

@dg.asset
def taxi_trips(taxi_trips_file: list[int]) -> int:
    return len(taxi_trips_file)
"""

METRICS = """
import bakehouse as dg

@dg.asset(deps=["taxi_trips"])
def trips_by_week() -> str:
    return "weekly"
"""

REPORTS = """
import bakehouse as dg

@dg.asset(group_name="reports")
def already_grouped() -> int:
    return 1
"""

CHECKS = """
import bakehouse as dg

@dg.asset_check(asset="taxi_trips")
def taxi_trips_positive(taxi_trips: int) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=taxi_trips > 0)
"""

CURRENT = """
import bakehouse as dg

@dg.asset
def here() -> int:
    return 1

all_assets = dg.load_assets_from_current_module(group_name="here_group")
"""


@pytest.fixture
def course_package(tmp_path: Path) -> Iterator[ModuleType]:
    """A package ``<unique>.assets`` with the modules above, imported for real."""
    name = f"essentials_{uuid.uuid4().hex[:8]}"
    assets = tmp_path / name / "assets"
    assets.mkdir(parents=True)
    (tmp_path / name / "__init__.py").write_text("")
    (assets / "__init__.py").write_text("")
    for module, source in {
        "trips": TRIPS,
        "metrics": METRICS,
        "reports": REPORTS,
        "checks": CHECKS,
    }.items():
        (assets / f"{module}.py").write_text(textwrap.dedent(source))
    (tmp_path / name / "current.py").write_text(textwrap.dedent(CURRENT))
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(f"{name}.assets")
    finally:
        sys.path.remove(str(tmp_path))
        for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[module]


def submodule(package: ModuleType, name: str) -> ModuleType:
    return importlib.import_module(f"{package.__name__}.{name}")


def test_assets_from_modules_run_as_the_course_lists_them(course_package: ModuleType) -> None:
    trips, metrics = submodule(course_package, "trips"), submodule(course_package, "metrics")
    trip_assets = dg.load_assets_from_modules([trips])
    metric_assets = dg.load_assets_from_modules(modules=[metrics], group_name="metrics")

    defs = dg.Definitions(assets=[*trip_assets, *metric_assets])
    graph = defs.resolve_asset_graph()
    assert graph.specs[dg.AssetKey("trips_by_week")].group_name == "metrics"
    assert graph.specs[dg.AssetKey("taxi_trips")].group_name == "default"
    result = dg.materialize([*trip_assets, *metric_assets][:3])
    assert result.asset_value("taxi_trips") == 3


def test_an_asset_is_loaded_once_however_many_modules_name_it(course_package: ModuleType) -> None:
    trips = submodule(course_package, "trips")
    assert len(dg.load_assets_from_modules([trips, trips])) == 2


def test_key_prefix_prefixes_the_assets_and_their_upstream_keys_among_them(
    course_package: ModuleType,
) -> None:
    trips = submodule(course_package, "trips")
    loaded = dg.load_assets_from_modules([trips], key_prefix="nyc")
    keys = {k.to_user_string() for a in loaded for k in a.keys}  # type: ignore[union-attr]
    assert keys == {"nyc/taxi_trips_file", "nyc/taxi_trips"}
    result = dg.materialize(loaded)
    assert result.asset_value(["nyc", "taxi_trips"]) == 3


def test_source_key_prefix_prefixes_upstream_assets_loaded_elsewhere(
    course_package: ModuleType,
) -> None:
    metrics = submodule(course_package, "metrics")
    [by_week] = dg.load_assets_from_modules([metrics], source_key_prefix="nyc")
    assert isinstance(by_week, dg.AssetsDefinition)
    assert by_week.dependency_keys == {dg.AssetKey(["nyc", "taxi_trips"])}


def test_group_name_does_not_move_an_asset_that_names_its_own_group(
    course_package: ModuleType,
) -> None:
    # As in Dagster: regrouping an asset that already names another group is refused.
    reports = submodule(course_package, "reports")
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="already in group 'reports'"):
        dg.load_assets_from_modules([reports], group_name="other")


def test_a_package_module_loads_the_assets_of_every_module_below_it(
    course_package: ModuleType,
) -> None:
    loaded = dg.load_assets_from_package_module(course_package, key_prefix="taxi")
    names = sorted(k.to_user_string() for a in loaded for k in a.keys)  # type: ignore[union-attr]
    assert names == [
        "taxi/already_grouped",
        "taxi/taxi_trips",
        "taxi/taxi_trips_file",
        "taxi/trips_by_week",
    ]


def test_checks_load_from_modules_with_the_asset_key_prefix_of_their_assets(
    course_package: ModuleType,
) -> None:
    trips, checks = submodule(course_package, "trips"), submodule(course_package, "checks")
    assets = dg.load_assets_from_modules([trips], key_prefix="nyc")
    [check] = dg.load_asset_checks_from_modules([checks], asset_key_prefix="nyc")
    assert check.asset_key == dg.AssetKey(["nyc", "taxi_trips"])
    result = dg.materialize([*assets, check])
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.passed
    assert evaluation.asset_key == dg.AssetKey(["nyc", "taxi_trips"])


def test_checks_load_from_a_package_module(course_package: ModuleType) -> None:
    [check] = dg.load_asset_checks_from_package_module(course_package)
    assert check.check_key.name == "taxi_trips_positive"


def test_the_current_module_loads_its_own_assets(course_package: ModuleType) -> None:
    current = importlib.import_module(course_package.__name__.rsplit(".", 1)[0] + ".current")
    [here] = current.all_assets
    assert here.specs[0].group_name == "here_group"


def test_file_relative_path_joins_to_the_folder_of_the_file() -> None:
    assert dg.file_relative_path("/project/pkg/defs.py", "../data/raw.csv") == (
        "/project/pkg/../data/raw.csv"
    )

"""`Definitions`: validation (resources, jobs, names), `merge`, and lookups."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

import pytest

import bakehouse as dg
from bakehouse.errors import DefinitionError, DuplicateKeyError, MissingResourceError
from bakehouse.graph.keys import AssetKey

WriteModule = Callable[..., ModuleType]


def _line_ahead(lines: int = 1) -> str:
    """``file:line`` of the line `lines` below the caller's."""
    frame = sys._getframe(1)
    return f"{frame.f_code.co_filename}:{frame.f_lineno + lines}"


WAREHOUSE_MODULE = """
import bakehouse as dg


class Warehouse(dg.ConfigurableResource):
    dsn: str


@dg.asset
def load_orders(warehouse: Warehouse):
    return warehouse.dsn
"""


@dg.asset(group_name="raw")
def orders() -> list[int]:
    return [1, 2]


@dg.asset(group_name="marts")
def report(orders: list[int]) -> int:
    return len(orders)


def test_a_missing_resource_names_the_asset_the_key_and_the_file_line(
    write_module: WriteModule,
) -> None:
    module = write_module(WAREHOUSE_MODULE)
    defs = dg.Definitions(assets=[module.load_orders])

    with pytest.raises(MissingResourceError) as err:
        defs.validate()

    error = err.value
    assert (error.resource_key, error.required_by) == ("warehouse", "asset 'load_orders'")
    assert error.source == module.load_orders.source
    assert error.source is not None
    assert error.source.line == 8
    assert str(error).startswith(
        f"{error.source}: asset 'load_orders' requires resource 'warehouse', which is not "
        "provided (resources provided: io_manager)."
    )


def test_provided_resources_satisfy_validation(write_module: WriteModule) -> None:
    module = write_module(WAREHOUSE_MODULE)
    dg.Definitions(
        assets=[module.load_orders], resources={"warehouse": module.Warehouse(dsn="x")}
    ).validate()


def test_required_resource_keys_and_io_manager_keys_must_be_provided() -> None:
    @dg.asset(required_resource_keys={"slack"})
    def notify() -> None:
        return None

    @dg.asset(io_manager_key="lake_io")
    def stored() -> int:
        return 1

    with pytest.raises(MissingResourceError, match="asset 'notify' requires resource 'slack'"):
        dg.Definitions(assets=[notify]).validate()
    with pytest.raises(MissingResourceError, match="asset 'stored' requires resource 'lake_io'"):
        dg.Definitions(assets=[stored], resources={"other": object()}).validate()
    dg.Definitions(assets=[stored], resources={"lake_io": dg.InMemoryIOManager()}).validate()


def test_a_plain_function_in_assets_asks_about_the_decorator() -> None:
    def not_decorated() -> int:
        return 1

    where = _line_ahead(2)
    with pytest.raises(DefinitionError) as err:
        dg.Definitions(assets=[not_decorated])  # type: ignore[list-item]
    assert str(err.value).startswith(f"{where}: Definitions(assets=...) got <function")
    assert "did you forget the @asset decorator?" in str(err.value)


def test_a_job_selecting_nothing_names_the_job_and_its_line() -> None:
    where = _line_ahead()
    job = dg.define_asset_job("nightly", selection=dg.AssetSelection.groups("nope"))
    defs = dg.Definitions(assets=[orders, report], jobs=[job])

    with pytest.raises(DefinitionError) as err:
        defs.validate()

    assert str(err.value) == (
        f"{where}: job 'nightly' selects no asset that can be materialized and no asset check "
        "(selection: group:nope)"
    )


def test_a_job_selecting_only_external_assets_selects_nothing() -> None:
    job = dg.define_asset_job("ext_only", selection=[dg.AssetSpec("ext")])
    defs = dg.Definitions(assets=[dg.AssetSpec("ext"), orders], jobs=[job])
    with pytest.raises(DefinitionError, match="job 'ext_only' selects no asset"):
        defs.validate()


def test_a_job_naming_an_unknown_key_names_the_job() -> None:
    job = dg.define_asset_job("typo", selection="ordres")
    with pytest.raises(DefinitionError) as err:
        dg.Definitions(assets=[orders], jobs=[job]).validate()
    assert "job 'typo': no asset with key 'ordres'" in str(err.value)
    assert "Did you mean 'orders'" in str(err.value)


def test_two_jobs_with_one_name_name_both_places() -> None:
    first = dg.define_asset_job("daily")
    second = dg.define_asset_job("daily")
    with pytest.raises(DuplicateKeyError) as err:
        dg.Definitions(assets=[orders], jobs=[first, second]).validate()
    assert str(err.value).startswith(f"{second.source}: duplicate job key 'daily'")
    assert f"also defined at {first.source}" in str(err.value)


@dataclass
class _Named:
    name: str


def test_two_schedules_or_sensors_with_one_name_are_duplicates() -> None:
    with pytest.raises(DuplicateKeyError, match="duplicate schedule key 'hourly'"):
        dg.Definitions(schedules=[_Named("hourly"), _Named("hourly")]).validate()
    with pytest.raises(DuplicateKeyError, match="duplicate sensor key 'watch'"):
        dg.Definitions(sensors=[_Named("watch"), _Named("watch")]).validate()


def test_merge_unites_everything_and_counts_shared_objects_once() -> None:
    api = object()
    job = dg.define_asset_job("all_assets")
    left = dg.Definitions(assets=[orders], resources={"api": api}, jobs=[job])
    right = dg.Definitions(assets=[orders, report], resources={"api": api}, metadata={"k": 1})

    merged = dg.Definitions.merge(left, right)

    assert merged.assets == [orders, report]
    assert merged.resources == {"api": api}
    assert merged.jobs == [job]
    assert merged.metadata == {"k": 1}
    merged.validate()


def test_merge_refuses_two_resources_under_one_key_naming_both_definitions() -> None:
    where_first = _line_ahead()
    first = dg.Definitions(resources={"api": object()})
    where_second = _line_ahead()
    second = dg.Definitions(resources={"api": object()})

    with pytest.raises(DuplicateKeyError) as err:
        dg.Definitions.merge(first, second)

    assert str(err.value).startswith(f"{where_second}: duplicate resource key 'api': ")
    assert f"also defined at {where_first}" in str(err.value)


def test_merge_refuses_two_executors_and_non_definitions() -> None:
    one = dg.Definitions(executor=dg.in_process_executor)
    two = dg.Definitions(executor=dg.in_process_executor.configured({"max_concurrent": 2}))
    assert dg.Definitions.merge(one, one).executor == dg.in_process_executor
    with pytest.raises(DefinitionError, match="two different executors"):
        dg.Definitions.merge(one, two)
    with pytest.raises(DefinitionError, match=r"Definitions\.merge takes Definitions"):
        dg.Definitions.merge(one, [orders])  # type: ignore[arg-type]


def test_lookups_by_key_and_by_name() -> None:
    job = dg.define_asset_job("marts_job", selection="group:marts")
    defs = dg.Definitions(assets=[orders, report, dg.AssetSpec("ext")], jobs=[job])

    assert defs.get_assets_def("report") is report
    assert defs.get_assets_def(AssetKey("orders")) is orders
    assert defs.get_job_def("marts_job") is job
    assert defs.resolve_job_keys(job) == [AssetKey("report")]
    with pytest.raises(DefinitionError, match="no asset with key 'ext' can be materialized"):
        defs.get_assets_def("ext")
    with pytest.raises(DefinitionError, match=r"no job named 'nope' \(jobs: marts_job\)"):
        defs.get_job_def("nope")


def test_the_asset_graph_is_resolved_once() -> None:
    defs = dg.Definitions(assets=[orders, report])
    assert defs.resolve_asset_graph() is defs.resolve_asset_graph()

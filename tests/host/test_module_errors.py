"""A location LOADED_WITH_ERRORS, host side, from snapshots only: what its failed modules took
away stays visible as missing, and a launch that needs it is refused with the module's
file:line, while the rest launches."""

from __future__ import annotations

from pathlib import Path

import pytest

from bakehouse.errors import ErrorInfo, LaunchError, ProjectError
from bakehouse.host.client import target_for_project
from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.host.launching import plan_run
from bakehouse.host.module_errors import with_missing_assets
from bakehouse.project.settings import read_project, settings_warnings
from bakehouse.protocol.snapshot import AssetNodeSnap, LocationSnap, ModuleErrorSnap
from bakehouse.protocol.wire import DEFS_ERRORS_ENV
from tests.support.projects import write_project

BROKEN = "/p/src/shop/defs/customers.py"
ERROR = ModuleErrorSnap(
    module="shop.defs.customers",
    path=BROKEN,
    file=BROKEN,
    line=8,
    error=ErrorInfo(cls_name="DefinitionError", message="RuntimeError: no database"),
)


def node(key: str, *deps: str, source: str = "/p/src/shop/defs/good.py") -> AssetNodeSnap:
    return AssetNodeSnap(key=key, deps=deps, step_key=key, source_file=source, source_line=1)


BEFORE = LocationSnap(
    name="shop",
    assets=(
        node("orders"),
        node("report", "customers"),
        node("customers", source=BROKEN),
        node("addresses", source=BROKEN),
    ),
)
# What the code server sends once customers.py breaks: its assets are gone, the key another
# module depends on is undefined and named after the failed module.
AFTER = LocationSnap(
    name="shop",
    assets=(
        node("orders"),
        node("report", "customers"),
        AssetNodeSnap(
            key="customers", is_external=True, is_undefined=True, failed_module=f"{BROKEN}:8"
        ),
    ),
    module_errors=(ERROR,),
)


def test_assets_of_the_failed_module_stay_as_missing_placeholders() -> None:
    snap = with_missing_assets(AFTER, BEFORE)

    nodes = {a.key: a for a in snap.assets}
    assert set(nodes) == {"orders", "report", "customers", "addresses"}
    # Nothing depends on addresses: without the previous snapshot it would vanish silently.
    assert nodes["addresses"].is_undefined
    assert nodes["addresses"].failed_module == f"{BROKEN}:8"
    # Still broken at the next reload: the placeholders stay.
    again = with_missing_assets(AFTER, snap)
    assert {a.key for a in again.assets if a.failed_module} == {"customers", "addresses"}
    # Fixed: nothing is added.
    fixed = LocationSnap(name="shop", assets=BEFORE.assets)
    assert with_missing_assets(fixed, snap) is fixed


def launch(graph: GlobalAssetGraph, **kwargs: object) -> list[str]:
    plan = plan_run(graph, dynamic_keys=lambda name: [], **kwargs)  # type: ignore[arg-type]
    return list(plan.asset_keys)


def test_a_launch_needing_the_failed_module_is_refused_and_the_rest_launches() -> None:
    graph = GlobalAssetGraph([with_missing_assets(AFTER, BEFORE)])

    assert launch(graph, asset_keys=["orders"]) == ["orders"]
    with pytest.raises(LaunchError) as err:
        launch(graph, asset_keys=["customers"])
    assert str(err.value).startswith(
        f"asset 'customers' is defined in a module that failed to load: {BROKEN}:8."
    )
    with pytest.raises(LaunchError) as err:
        launch(graph, asset_keys=["report"])
    assert "asset 'report' needs 'customers', which is defined in a module that failed to " in (
        str(err.value)
    )
    assert f"load: {BROKEN}:8" in str(err.value)
    # A selection of it, or of everything, is refused the same way: none can run it.
    for selection in ("customers", "*", "addresses"):
        with pytest.raises(LaunchError, match="is defined in a module that failed to load"):
            launch(graph, selection=selection)
    assert launch(graph, selection="orders") == ["orders"]


def test_another_location_defining_the_key_wins_over_the_placeholder() -> None:
    other = LocationSnap(name="crm", assets=(node("customers", source="/crm/defs.py"),))
    graph = GlobalAssetGraph([AFTER, other])

    assert launch(graph, asset_keys=["report"]) == ["report"]


def test_defs_errors_is_read_from_the_settings_and_reaches_the_location_processes(
    tmp_path: Path,
) -> None:
    root = write_project(tmp_path / "shop", "shop", {})
    settings = read_project(root / "pyproject.toml")
    assert settings.defs_errors == "isolate"
    assert target_for_project(settings).process_env()[DEFS_ERRORS_ENV] == "isolate"

    pyproject = root / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(
        text.replace("[tool.bakehouse]\n", '[tool.bakehouse]\ndefs_errors = "fail"\n')
    )
    settings = read_project(pyproject)
    assert target_for_project(settings).process_env()[DEFS_ERRORS_ENV] == "fail"
    assert settings_warnings(pyproject) == []

    pyproject.write_text(
        text.replace("[tool.bakehouse]\n", '[tool.bakehouse]\ndefs_errors = "skip"\n')
    )
    with pytest.raises(ProjectError) as err:
        read_project(pyproject)
    assert str(err.value) == (
        f"{pyproject}: tool.bakehouse.defs_errors must be one of 'isolate', 'fail', got 'skip'"
    )

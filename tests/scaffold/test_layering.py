"""Scaffolding is host side: its modules and commands load no authoring API or components."""

from __future__ import annotations

import pytest

from tests.test_layering import CODE_SERVER_ONLY, loaded_after, under

MODULES = [
    "bakehouse.scaffold.defs",
    "bakehouse.scaffold.project",
    "bakehouse.scaffold.component_client",
    "bakehouse.cli.create",
    "bakehouse.cli.scaffold",
    "bakehouse.cli.components",
    "bakehouse.cli.settings",
    "bakehouse.cli.listing",
    "bakehouse.cli.check",
]


@pytest.mark.parametrize("module", MODULES)
def test_host_side_scaffolding_loads_no_code_server_modules(module: str) -> None:
    modules = loaded_after(f"import {module}")
    assert module in modules
    assert under(modules, *CODE_SERVER_ONLY, "pydantic", "yaml", "duckdb") == []

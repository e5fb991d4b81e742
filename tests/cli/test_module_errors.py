"""The CLI without a running deployment, in a project with one broken defs module: ``bh launch``
runs what does not need it after a warning naming it, refuses what does, and ``bh locations
list`` reports LOADED_WITH_ERRORS; with ``defs_errors = "fail"`` the location fails whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.helpers import RunBh
from tests.support.projects import write_project

pytestmark = pytest.mark.slow

FILES = {
    "defs/orders.py": """\
        import bakehouse as dg


        @dg.asset
        def orders() -> list[int]:
            return [1, 2, 3]
        """,
    "defs/customers.py": """\
        import bakehouse as dg


        @dg.asset
        def customers() -> list[str]:
            return ["ann"]

        import no_such_crm_client
        """,
}


def test_launch_runs_what_does_not_need_the_broken_module_and_refuses_what_does(
    tmp_path: Path, bh: RunBh
) -> None:
    root = write_project(tmp_path.resolve() / "shop", "shop", FILES)
    where = f"{root}/src/shop/defs/customers.py:8"

    launched = bh("launch", "--assets", "orders", cwd=root)
    assert launched.returncode == 0, launched.stdout + launched.stderr
    assert "loaded with errors" in launched.stderr
    assert f"{where}: error while importing shop.defs.customers" in launched.stderr
    assert "No module named 'no_such_crm_client'" in launched.stderr

    # Nothing depends on customers; its key is read from the broken module's source.
    refused = bh("launch", "--assets", "customers", cwd=root)
    assert refused.returncode != 0
    assert f"asset 'customers' is defined in a module that failed to load: {where}" in (
        refused.stderr
    )

    listed = bh("locations", "list", "--json", cwd=root)
    assert listed.returncode == 1
    (row,) = json.loads(listed.stdout)
    assert row["status"] == "LOADED_WITH_ERRORS"
    assert [e["where"] for e in row["module_errors"]] == [where]
    assert row["asset_count"] == 1


def test_with_defs_errors_fail_the_location_fails_whole(tmp_path: Path, bh: RunBh) -> None:
    root = write_project(tmp_path.resolve() / "shop", "shop", FILES, defs_errors="fail")

    launched = bh("launch", "--assets", "orders", cwd=root)
    assert launched.returncode == 1
    assert "failed to load" in launched.stdout + launched.stderr
    listed = bh("locations", "list", "--json", cwd=root)
    (row,) = json.loads(listed.stdout)
    assert row["status"] == "FAILED"
    assert f"{root}/src/shop/defs/customers.py:8" in row["error"]["message"]
    # A check loads every module whatever the setting says, and fails naming it.
    checked = bh("check", "defs", cwd=root)
    assert checked.returncode == 1
    assert f"{root}/src/shop/defs/customers.py:8" in checked.stdout

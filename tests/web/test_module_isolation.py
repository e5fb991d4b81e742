"""Per-module error isolation end to end, over `bh dev` as a real process with a real code server.

One location, two modules: ``orders.py`` (orders, and customer_orders, which needs customers)
and ``customers.py``. Breaking ``customers.py`` leaves the location LOADED_WITH_ERRORS: orders
stays launchable and runs, what needs customers is refused naming the broken file:line, and the
API, ``bh locations list --json``, ``bh check defs``, the asset page and the Code locations page
all name it. Fixing the file and reloading gives LOADED again.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.dev_server import DevServer, bh_env, running_dev_server
from tests.support.projects import write_project
from tests.support.waiting import eventually
from tests.web.conftest import Shots, playwright_expect

pytestmark = pytest.mark.slow

ORDERS = """\
    import bakehouse as dg


    @dg.asset
    def orders() -> list[int]:
        return [1, 2, 3]


    @dg.asset(deps=["customers"])
    def customer_orders(orders: list[int]) -> int:
        return len(orders)
    """
CUSTOMERS = """\
    import bakehouse as dg


    @dg.asset
    def customers() -> list[str]:
        return ["ann", "bob"]
    """
RAISE = 'raise RuntimeError("the customers database is unreachable")'
BROKEN = textwrap.dedent(CUSTOMERS) + "\n" + RAISE + "\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    root = tmp_path_factory.mktemp("isolation").resolve()
    write_project(root, "shop", {"defs/orders.py": ORDERS, "defs/customers.py": CUSTOMERS})
    with running_dev_server(root, loaded={"shop"}) as dev:
        yield dev


def customers_py(server: DevServer) -> Path:
    return server.root / "src" / "shop" / "defs" / "customers.py"


def reload(http: httpx.Client) -> dict[str, Any]:
    answer = http.post("/api/locations/shop/reload")
    assert answer.status_code == 200, answer.text
    state: dict[str, Any] = answer.json()
    return state


def break_customers(server: DevServer, http: httpx.Client) -> tuple[str, dict[str, Any]]:
    """Make customers.py raise at import, reload; the broken file:line and the new state."""
    path = customers_py(server)
    path.write_text(BROKEN)
    line = 1 + path.read_text().splitlines().index(RAISE)
    return f"{path}:{line}", reload(http)


def fix_customers(server: DevServer, http: httpx.Client) -> dict[str, Any]:
    customers_py(server).write_text(textwrap.dedent(CUSTOMERS))
    return reload(http)


def launch(http: httpx.Client, *keys: str) -> httpx.Response:
    return http.post("/api/runs", json={"asset_keys": list(keys)})


def bh(server: DevServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bakehouse", *args],
        cwd=server.root,
        env=bh_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_broken_module_leaves_the_other_launchable_and_is_named_everywhere(
    server: DevServer,
) -> None:
    with server.http(timeout=120) as http:
        where, state = break_customers(server, http)

        # The location serves on, with the broken module named by file:line and traceback.
        assert state["status"] == "LOADED_WITH_ERRORS", state["error"]
        (error,) = state["module_errors"]
        assert error["where"] == where
        assert error["module"] == "shop.defs.customers"
        assert "the customers database is unreachable" in error["message"]
        assert "Traceback" in error["traceback"]
        assert state["error"] is None
        (listed,) = http.get("/api/locations").json()
        assert listed["status"] == "LOADED_WITH_ERRORS"
        assert listed["module_errors"][0]["where"] == where

        # The other module's asset launches and its run succeeds.
        launched = launch(http, "orders")
        assert launched.status_code == 201, launched.text
        run = server.wait_finished(launched.json()["run_id"])
        assert run["status"] == "SUCCESS"

        # What needs the broken module is refused with its file:line; no run is stored.
        runs_before = len(http.get("/api/runs").json())
        refused = launch(http, "customers")
        assert refused.status_code == 400, refused.text
        assert f"defined in a module that failed to load: {where}" in refused.json()["detail"]
        refused = launch(http, "customer_orders")
        assert refused.status_code == 400, refused.text
        assert "needs 'customers'" in refused.json()["detail"]
        assert where in refused.json()["detail"]
        assert len(http.get("/api/runs").json()) == runs_before

        # customers is shown missing, not dropped: on the asset page and in the lineage data.
        page = http.get("/assets/customers")
        assert page.status_code == 200
        assert f'data-failed-module="{where}"' in page.text
        assert "defined in a module that failed to load" in page.text
        assets = {a["key"]: a for a in http.get("/api/assets").json()}
        assert assets["customers"]["failed_module"] == where
        assert assets["orders"]["failed_module"] is None

        # The CLI says the same, and exits 1.
        listing = bh(server, "locations", "list", "--json")
        assert listing.returncode == 1, listing.stderr
        (row,) = json.loads(listing.stdout)
        assert row["status"] == "LOADED_WITH_ERRORS"
        assert row["module_errors"][0]["where"] == where
        check = bh(server, "check", "defs")
        assert check.returncode == 1, check.stdout + check.stderr
        short = f"src/shop/defs/customers.py:{where.rsplit(':', 1)[1]}"
        assert short in check.stdout
        assert "loaded with errors" in check.stdout

        # Fixed and reloaded: LOADED again, and customers launches.
        state = fix_customers(server, http)
        assert state["status"] == "LOADED"
        assert state["module_errors"] == []
        launched = launch(http, "customers", "customer_orders")
        assert launched.status_code == 201, launched.text
        assert server.wait_finished(launched.json()["run_id"])["status"] == "SUCCESS"
        assert bh(server, "locations", "list", "--json").returncode == 0


def test_the_loaded_with_errors_row_on_the_code_locations_page(
    server: DevServer, page: Any, shots: Shots
) -> None:
    with server.http(timeout=120) as http:
        where, state = break_customers(server, http)
        assert state["status"] == "LOADED_WITH_ERRORS"
        expect = playwright_expect()
        try:
            page.goto("/locations")
            row = page.locator('tr[data-location="shop"]')
            expect(row).to_have_attribute("data-status", "LOADED_WITH_ERRORS")
            expect(row.locator(".status-cell")).to_contain_text("Loaded with errors")
            note = row.locator("[data-module-errors]")
            expect(note).to_contain_text("1 module of its defs folder failed to load")
            item = note.locator('[data-module-error="shop.defs.customers"]')
            expect(item).to_contain_text(f"customers.py:{where.rsplit(':', 1)[1]}")
            expect(item).to_contain_text("the customers database is unreachable")
            shots.take(page, "locations-module-errors")
            # The traceback opens below it.
            note.locator("summary").click()
            expect(note.locator("pre.traceback")).to_contain_text("RuntimeError")

            # The missing asset on its own page names the module, and the lineage says why
            # assets are missing.
            page.goto("/assets/customers")
            expect(page.locator("[data-failed-module]")).to_contain_text(where)
            page.goto("/lineage")
            notice = page.locator('[data-module-errors-notice="shop"]')
            expect(notice).to_contain_text(f"loaded with errors: {where} failed to load")
        finally:
            assert fix_customers(server, http)["status"] == "LOADED"
        eventually(
            lambda: http.get("/api/locations").json()[0]["status"] == "LOADED",
            message="shop to be LOADED again",
        )

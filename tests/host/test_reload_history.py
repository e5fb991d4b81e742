"""End to end with a running ``bh dev`` (file watching on): a location's reload history holds
exactly what its files' changes added and removed, and its health counts the restarts of a code
server killed twice, with the signals that ended it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.dev_server import DevServer, bh_env, start_dev_server, stop_dev_server
from tests.support.projects import write_project
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow

BREAD = """\
    import bakehouse as dg


    @dg.asset
    def bread() -> int:
        return 1


    nightly = dg.ScheduleDefinition(
        name="nightly", target=dg.AssetSelection.assets("bread"), cron_schedule="0 3 * * *"
    )
    """

BREAD_WITHOUT_SCHEDULE = """\
    import bakehouse as dg


    @dg.asset
    def bread() -> int:
        return 1
    """

BUN = """\
    import bakehouse as dg


    @dg.asset(deps=["bread"])
    def bun() -> int:
        return 2
    """


@pytest.fixture
def bakery(tmp_path: Path) -> Iterator[DevServer]:
    root = write_project(tmp_path / "bakery", "bakery", {"defs/bread.py": BREAD})
    server = start_dev_server(root, watch=True)
    try:
        server.wait_loaded({"bakery"})
        yield server
    finally:
        stop_dev_server(server)


def _reloads(server: DevServer) -> list[dict[str, Any]]:
    with server.http() as http:
        response = http.get("/api/locations/bakery/reloads")
        response.raise_for_status()
        found: list[dict[str, Any]] = response.json()
        return found


def _location(server: DevServer) -> dict[str, Any]:
    with server.http() as http:
        rows: list[dict[str, Any]] = http.get("/api/locations").json()
    return next(r for r in rows if r["name"] == "bakery")


def test_adding_an_asset_and_removing_a_schedule_is_the_reload_history_diff(
    bakery: DevServer,
) -> None:
    startup = eventually(lambda: _reloads(bakery), message="the startup load to be recorded")
    assert [(r["trigger"], r["loaded"], r["diff"]) for r in startup] == [("startup", True, None)]
    package = bakery.root / "src" / "bakery" / "defs"
    # One change of files, as an editor's save of two files: the watcher debounces them.
    (package / "bun.py").write_text(BUN.replace("\n    ", "\n").lstrip())
    (package / "bread.py").write_text(BREAD_WITHOUT_SCHEDULE.replace("\n    ", "\n").lstrip())

    def merged() -> tuple[list[dict[str, Any]], list[Any], list[Any], list[Any]] | None:
        reloads = _reloads(bakery)
        # The files may land in two reloads (the watcher saw them apart): merge what they say.
        changes = [r for r in reloads if r["trigger"] == "file_change" and r["diff"]]
        added = [c for r in changes for c in r["diff"]["added"]]
        removed = [c for r in changes for c in r["diff"]["removed"]]
        changed = [c for r in changes for c in r["diff"]["changed"]]
        return (reloads, added, removed, changed) if added and removed else None

    reloads, added, removed, changed = eventually(
        merged, message="reloads after the files changed to add bun and remove nightly"
    )
    changes = [r for r in reloads if r["trigger"] == "file_change"]
    assert added == [{"kind": "asset", "name": "bun", "fields": []}]
    assert removed == [{"kind": "schedule", "name": "nightly", "fields": []}]
    assert changed == []
    assert all(r["loaded"] and r["actor"] is None for r in changes)
    if len(changes) == 1:
        assert changes[0]["summary"] == "+1 asset, \u22121 schedule"
    newest = reloads[0]
    assert newest["load_seconds"] > 0
    assert newest["rss_bytes"] > 10_000_000
    assert newest["peak_rss_bytes"] >= newest["rss_bytes"]
    row = _location(bakery)
    assert row["last_reload"]["id"] is None or row["last_reload"]["trigger"] == "file_change"
    assert row["last_reload"]["diff"] == newest["diff"]

    # The Reload button and the CLI say what asked and who (no auth here: "local").
    with bakery.http() as http:
        answer = http.post("/api/locations/bakery/reload?via=button").json()
        assert http.get("/api/locations/nope/reloads").status_code == 404
        assert http.get("/api/locations/bakery/reloads?limit=0").status_code == 422
        assert http.get("/locations/nope").status_code == 404
    assert answer["last_reload"]["trigger"] == "reload"
    assert answer["last_reload"]["actor"] == "local"
    assert answer["last_reload"]["summary"] == "no changes"
    cli = subprocess.run(
        [sys.executable, "-m", "bakehouse", "locations", "history", "bakery", "--json"],
        cwd=bakery.root,
        env=bh_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    history = json.loads(cli.stdout)
    assert [r["trigger"] for r in history][:1] == ["reload"]
    assert history[-1]["trigger"] == "startup"
    text = subprocess.run(
        [sys.executable, "-m", "bakehouse", "locations", "history", "bakery"],
        cwd=bakery.root,
        env={**bh_env(), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "+ asset bun" in text
    assert "\u2212 schedule nightly" in text
    assert "Reload button by local" in text


def test_a_code_server_killed_twice_shows_two_restarts_with_their_signals(
    bakery: DevServer,
) -> None:
    first = _location(bakery)
    assert first["health"]["restarts"] == 0
    assert first["health"]["last_exit"] is None
    assert first["health"]["load_seconds"] > 0
    assert first["health"]["packages"]["bakehouse"]
    assert first["health"]["python_version"] == ".".join(map(str, sys.version_info[:3]))
    for number, sig in enumerate((signal.SIGKILL, signal.SIGTERM), start=1):
        pid = _location(bakery)["pid"]
        os.kill(pid, sig)
        eventually(
            lambda pid=pid, number=number: (  # type: ignore[misc]
                (row := _location(bakery))["status"] == "LOADED"
                and row["pid"] not in (None, pid)
                and row["health"]["restarts"] == number
            ),
            message=f"the code server killed by {sig.name} to be restarted",
        )
    health = _location(bakery)["health"]
    assert health["restarts"] == 2
    assert health["last_exit"] == "SIGTERM"
    assert health["last_exit_at"] > 0
    assert health["rss_bytes"] > 10_000_000
    restarts = [r for r in _reloads(bakery) if r["trigger"] == "restart"]
    assert [(r["reason"], r["loaded"]) for r in restarts] == [("SIGTERM", True), ("SIGKILL", True)]
    assert all(r["summary"] == "no changes" for r in restarts)
    listed = subprocess.run(
        [sys.executable, "-m", "bakehouse", "locations", "list", "--json"],
        cwd=bakery.root,
        env=bh_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    row = json.loads(listed.stdout)[0]
    assert row["health"]["restarts"] == 2
    assert row["health"]["last_exit"] == "SIGTERM"


def _reload_until(server: DevServer, found: Any, message: str) -> dict[str, Any]:
    """Reload through the API (the file watcher may reload too) until a stored reload satisfies
    `found`; the first that did (later ones diff against it)."""

    def check() -> dict[str, Any] | None:
        with server.http() as http:
            http.post("/api/locations/bakery/reload")
        return next((r for r in reversed(_reloads(server)) if found(r)), None)

    return eventually(check, message=message, interval=0.5)


def test_failing_modules_and_a_failing_location_are_kept_with_their_errors(
    bakery: DevServer,
) -> None:
    package = bakery.root / "src" / "bakery"
    bread = package / "defs" / "bread.py"
    good_bread = bread.read_text()
    # One defs module fails: the rest loads, the reload says which module was left out and what
    # went with it.
    bread.write_text(good_bread + "\nthis is not python\n")
    isolated = _reload_until(
        bakery, lambda r: r["loaded"] and r["module_errors"], "bread.py to be left out"
    )
    assert len(isolated["module_errors"]) == 1
    assert re.search(
        r"bread\.py:\d+: .*NameError: name 'this' is not defined", isolated["module_errors"][0]
    )
    assert isolated["diff"]["removed"] == [
        {"kind": "asset", "name": "bread", "fields": []},
        {"kind": "schedule", "name": "nightly", "fields": []},
    ]
    # The location's own module fails: nothing new serves, the error is kept, no diff.
    definitions = package / "definitions.py"
    good_definitions = definitions.read_text()
    definitions.write_text(good_definitions + "\nraise RuntimeError('the oven is cold')\n")
    failed = _reload_until(bakery, lambda r: not r["loaded"], "the location to fail to load")
    assert failed["diff"] is None
    assert failed["summary"] is None
    assert "RuntimeError: the oven is cold" in failed["error"]["traceback"]
    assert "definitions.py" in failed["error"]["traceback"]
    assert _location(bakery)["serving_last_good"]
    # Fixed again: the diff is against what served meanwhile (bread's module left out).
    definitions.write_text(good_definitions)
    bread.write_text(good_bread)
    fixed = _reload_until(
        bakery,
        lambda r: r["loaded"] and not r["module_errors"] and r["diff"] and r["diff"]["added"],
        "the fixed files to load again",
    )
    assert fixed["summary"] == "+1 asset, +1 schedule"

"""One corrupt stored row spoils only itself: pages, the API and the CLI keep working, mark the
row, and ``bh doctor`` finds it and moves it aside (real SQLite file, real ``bh`` processes)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.dev_server import DevServer, running_dev_server
from tests.support.faults import bh, database, small_project

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str, int]:
    """A project with two runs; the body of one run and of one event of the other are garbage.
    Returns (project, bad run id, good run id, bad event's storage id)."""
    project = small_project(tmp_path_factory.mktemp("corrupt") / "shop")
    for _ in range(2):
        done = bh("launch", "--assets", "*", cwd=project)
        assert done.returncode == 0, done.stdout + done.stderr
    db = database(project)
    bad_run, good_run = [r for (r,) in db.execute("SELECT run_id FROM runs ORDER BY created_at")]
    db.execute("UPDATE runs SET body = '{not json' WHERE run_id = ?", (bad_run,))
    (event_id,) = db.execute(
        "SELECT id FROM event_logs WHERE run_id = ? AND event_type = 'STEP_START' LIMIT 1",
        (good_run,),
    ).fetchone()
    db.execute("UPDATE event_logs SET body = '[1, 2' WHERE id = ?", (event_id,))
    db.close()
    return project, bad_run, good_run, event_id


@pytest.fixture(scope="module")
def server(damaged: tuple[Path, str, str, int]) -> Iterator[DevServer]:
    """``bh dev`` on the damaged project."""
    with running_dev_server(damaged[0], loaded=set()) as running:
        yield running


PAGES = ["/", "/lineage", "/runs", "/assets/orders", "/assets/totals", "/locations"]
APIS = ["/api/runs", "/api/assets", "/api/graph", "/api/assets/orders"]


@pytest.mark.parametrize("path", PAGES + APIS)
def test_every_page_and_list_still_answers(server: DevServer, path: str) -> None:
    answer = httpx.get(server.url + path, timeout=30, follow_redirects=True)
    assert answer.status_code == 200, answer.text[:500]


def test_the_run_list_marks_the_bad_run(
    server: DevServer, damaged: tuple[Path, str, str, int]
) -> None:
    _, bad_run, good_run, _ = damaged
    listed = httpx.get(server.url + "/api/runs", timeout=30).json()
    marked = [r for r in listed if r.get("corrupt")]
    assert [r["run_id"] for r in marked] == [bad_run]
    assert "run record" in marked[0]["reason"]
    assert good_run in [r["run_id"] for r in listed if not r.get("corrupt")]
    page = httpx.get(server.url + "/runs", timeout=30).text
    assert f'data-run="{bad_run}" data-corrupt="true"' in page


def test_the_bad_runs_page_says_which_row_and_why(
    server: DevServer, damaged: tuple[Path, str, str, int]
) -> None:
    bad_run = damaged[1]
    page = httpx.get(f"{server.url}/runs/{bad_run}", timeout=30)
    assert page.status_code == 409
    assert bad_run in page.text
    assert "cannot be read" in page.text
    assert "bh doctor" in page.text
    api = httpx.get(f"{server.url}/api/runs/{bad_run}", timeout=30)
    assert api.status_code == 409
    assert api.json()["corrupt"] is True
    assert api.json()["key"] == bad_run


def test_a_bad_event_is_marked_in_its_runs_log(
    server: DevServer, damaged: tuple[Path, str, str, int]
) -> None:
    _, _, good_run, event_id = damaged
    detail = httpx.get(f"{server.url}/api/runs/{good_run}", timeout=30).json()
    assert detail["status"] == "SUCCESS"
    marked = [e for e in detail["events"] if e.get("corrupt")]
    assert [e["storage_id"] for e in marked] == [event_id]
    others = [e for e in detail["events"] if not e.get("corrupt")]
    assert any(e["event_type"] == "RUN_SUCCESS" for e in others)
    page = httpx.get(f"{server.url}/runs/{good_run}", timeout=30)
    assert page.status_code == 200
    assert f'data-corrupt-event="{event_id}"' in page.text


def test_runs_list_names_the_bad_run(damaged: tuple[Path, str, str, int]) -> None:
    project, bad_run, good_run, _ = damaged
    listed = bh("runs", "list", cwd=project)
    assert listed.returncode == 0, listed.stderr
    assert "Traceback" not in listed.stderr
    assert f"run {bad_run} cannot be read" in listed.stderr
    assert good_run[:8] in listed.stdout
    as_json = json.loads(bh("runs", "list", "--json", cwd=project).stdout)
    assert {"run_id": bad_run, "corrupt": True}.items() <= as_json[-1].items()
    shown = bh("runs", "show", bad_run, cwd=project)
    assert shown.returncode == 1
    assert "Traceback" not in shown.stderr
    assert bad_run in shown.stderr
    assert "bh doctor" in shown.stderr


def test_doctor_lists_every_bad_row_and_moves_them_aside(tmp_path: Path) -> None:
    project = small_project(tmp_path / "shop")
    assert bh("launch", "--assets", "*", cwd=project).returncode == 0
    db = database(project)
    (run_id,) = db.execute("SELECT run_id FROM runs").fetchone()
    db.execute("UPDATE runs SET body = 'garbage' WHERE run_id = ?", (run_id,))
    (event_id,) = db.execute("SELECT max(id) FROM event_logs").fetchone()
    db.execute("UPDATE event_logs SET body = '{}' WHERE id = ?", (event_id,))
    db.execute("UPDATE asset_keys SET metadata = '[' WHERE asset_key = 'orders'")
    db.execute(
        "INSERT INTO backfills (backfill_id, status, created_at, updated_at, body) "
        "VALUES ('bf1', 'REQUESTED', 1, 1, '\"just a string\"')"
    )
    db.execute(
        "INSERT INTO ticks (origin, type, tick_at, status, created_at, updated_at, body) "
        "VALUES ('shop:daily', 'SCHEDULE', 1, 'STARTED', 1, 1, 'nope')"
    )
    original_run_body = "garbage"

    listed = bh("doctor", cwd=project)
    assert listed.returncode == 1, listed.stdout + listed.stderr
    lines = listed.stdout.splitlines()
    for needle in (
        f"runs {run_id}: corrupt",
        f"event_logs {event_id}: corrupt",
        "asset_keys orders: corrupt",
        "backfills bf1: corrupt",
        "ticks ",
    ):
        assert any(line.startswith(needle) for line in lines), (needle, listed.stdout)

    moved = bh("doctor", "--move-aside", cwd=project)
    assert moved.returncode == 0, moved.stdout + moved.stderr
    assert "Moved 5 rows" in moved.stdout
    kept = db.execute("SELECT table_name, row_key, row FROM quarantined_rows").fetchall()
    assert {t for t, _, _ in kept} == {"runs", "event_logs", "asset_keys", "backfills", "ticks"}
    run_row = next(json.loads(row) for t, _, row in kept if t == "runs")
    assert run_row["run_id"] == run_id
    assert run_row["body"] == original_run_body
    assert db.execute("SELECT count(*) FROM runs WHERE run_id = ?", (run_id,)).fetchone() == (0,)
    # The asset index is rebuilt from the log: orders' materialization is still there.
    (indexed,) = db.execute("SELECT count(*) FROM asset_keys WHERE asset_key = 'orders'").fetchone()
    assert indexed == 1
    db.close()

    again = bh("doctor", cwd=project)
    assert again.returncode == 0
    assert "No corrupt rows." in again.stdout

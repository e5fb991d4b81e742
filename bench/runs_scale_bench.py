"""Time the pages of an instance holding 100,000 runs, and of one run of 10,000 steps.

The runs are written straight through storage (`Instance`'s own modules and the rows its codec
makes, one prepared statement per table and a transaction per 5,000 runs), shaped like a
deployment's history over about five weeks:

- 60% schedule runs of a job of 5 to 20 assets (one of 40 jobs), 25% runs from the UI or the
  CLI of 1 to 3 assets, 15% sensor runs of 1 to 5 assets, each with its tags as a launch
  writes them; 92% succeed, 6% fail, 2% are canceled;
- every 2,000th run (50 in all) a UI run of ``*``: every asset of the project (20,000);
- each run logs RUN_START, one materialization of its first asset and its end event;
- one run of 10,000 steps (5 events a step: 50,002 events) and one of 1,000 steps.

The project is gen_project.py's ``layered`` shape with as many assets (20,000), served by a real
``bh dev --no-reload``. Measured, over one kept-alive connection, first call and median of
`--reps` warm calls, with each answer's size:

- ``/runs`` (the runs page) and ``/api/runs`` (50 runs);
- a run by short id: ``Instance.find_run(8 characters)`` of the oldest run, in this process (the
  query ``bh runs show`` makes); and ``bh runs show PREFIX`` as a process, wall time;
- an asset page (``/assets/KEY``) of an asset that ~9,000 runs selected;
- the 10,000-step run: its page (``/runs/ID``, the first screen: header, the log's last page),
  its header fragment, a page of ``/api/runs/ID/events``, ``/api/runs/ID/steps``;
- the 1,000-step run's page size.

Usage (this repository's dev venv; the instance is kept under bench/.work/runs-scale/ and made
again only when the arguments change; a newer schema upgrades it on open):

    .venv/bin/python bench/runs_scale_bench.py
    .venv/bin/python bench/runs_scale_bench.py --runs 10000 --assets 2000 --reps 5
    .venv/bin/python bench/runs_scale_bench.py --write-docs
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / ".work" / "runs-scale"
DOC = REPO / "docs" / "benchmarks.md"
BEGIN = "<!-- runs_scale_bench: begin -->"
END = "<!-- runs_scale_bench: end -->"
GOAL_MS = 50.0
FIRST_SCREEN_GOAL_MS = 100.0
RUNS_PER_TRANSACTION = 5_000
SEED_CACHE_KIB = 1_000_000
JOBS = 40


def _ui_bench() -> Any:
    sys.path.insert(0, str(HERE))
    import ui_bench

    return ui_bench


# -- the instance ------------------------------------------------------------------------------


def _events(run: Any, materialized: str | None, t: float, end: str) -> list[Any]:
    from bakehouse.storage.records import EventRecord, EventType

    found = [EventRecord(run_id=run.run_id, event_type=EventType.RUN_START, timestamp=t)]
    if materialized is not None:
        found.append(
            EventRecord(
                run_id=run.run_id,
                event_type=EventType.ASSET_MATERIALIZATION,
                timestamp=t + 1,
                step_key=materialized,
                asset_key=materialized,
                message=f"Materialized {materialized}",
                data={"metadata": {"rows": {"type": "int", "value": 10}}},
            )
        )
    found.append(EventRecord(run_id=run.run_id, event_type=EventType(end), timestamp=t + 2))
    return found


def _history(keys: list[str], runs: int, star_every: int, seed: int) -> list[tuple[Any, str]]:
    """The runs to store and the end event of each, oldest first."""
    from bakehouse.storage.records import RunRecord, RunStatus

    rng = random.Random(seed)
    width = len(keys)
    jobs = []
    for _ in range(JOBS):
        start = rng.randrange(width - 50)
        jobs.append(keys[start : start + rng.randint(5, 20)])
    t0 = time.time() - runs * 30.0
    found = []
    for i in range(runs):
        created = t0 + i * 30.0
        roll = rng.random()
        end_roll = rng.random()
        status, end = (
            (RunStatus.SUCCESS, "RUN_SUCCESS")
            if end_roll < 0.92
            else (RunStatus.FAILURE, "RUN_FAILURE")
            if end_roll < 0.98
            else (RunStatus.CANCELED, "RUN_CANCELED")
        )
        common = {
            "run_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "status": status,
            "location_name": "bench",
            "created_at": created,
            "updated_at": created + 60,
            "started_at": created + 1,
            "ended_at": created + 60,
        }
        if i % star_every == star_every - 1:
            run = RunRecord(
                **common,
                asset_selection=tuple(keys),
                selection_query="*",
                tags={"bakehouse/launched_by": "ui"},
            )
        elif roll < 0.60:
            j = rng.randrange(JOBS)
            run = RunRecord(
                **common,
                asset_selection=tuple(jobs[j]),
                job_name=f"job_{j:02d}",
                tags={"bakehouse/launched_by": "schedule", "bakehouse/schedule": f"daily_{j:02d}"},
            )
        elif roll < 0.85:
            run = RunRecord(
                **common,
                asset_selection=tuple(rng.sample(keys, rng.randint(1, 3))),
                tags={"bakehouse/launched_by": rng.choice(["ui", "cli"])},
            )
        else:
            run = RunRecord(
                **common,
                asset_selection=tuple(rng.sample(keys, rng.randint(1, 5))),
                tags={"bakehouse/launched_by": "sensor", "bakehouse/sensor": "new_files"},
            )
        found.append((run, end))
    return found


def _long_run(keys: list[str], steps: int, created: float) -> tuple[Any, list[Any]]:
    from bakehouse.storage.records import EventRecord, EventType, RunRecord, RunStatus

    run = RunRecord(
        run_id=str(uuid.uuid4()),
        status=RunStatus.SUCCESS,
        asset_selection=tuple(keys[:steps]),
        selection_query="*",
        location_name="bench",
        tags={"bakehouse/launched_by": "cli"},
        created_at=created,
        updated_at=created,
    )
    events = [EventRecord(run_id=run.run_id, event_type=EventType.RUN_START, timestamp=created)]
    for i, key in enumerate(keys[:steps]):
        t = created + 1 + i * 0.01
        for kind, dt, message in (
            (EventType.STEP_START, 0.0, f"Started execution of step {key}"),
            (EventType.STEP_INPUT, 0.001, "Loaded input"),
            (EventType.STEP_OUTPUT, 0.002, 'Yielded output "result"'),
            (EventType.ASSET_MATERIALIZATION, 0.003, f"Materialized value {key}"),
            (EventType.STEP_SUCCESS, 0.004, f"Finished execution of step {key} in 4ms"),
        ):
            is_mat = kind is EventType.ASSET_MATERIALIZATION
            events.append(
                EventRecord(
                    run_id=run.run_id,
                    event_type=kind,
                    timestamp=t + dt,
                    step_key=key,
                    asset_key=key if is_mat else None,
                    message=message,
                    data={"metadata": {"path": {"type": "path", "value": f"/tmp/{key}"}}}
                    if is_mat
                    else {},
                )
            )
    end = created + 2 + steps * 0.01
    events.append(EventRecord(run_id=run.run_id, event_type=EventType.RUN_SUCCESS, timestamp=end))
    return run, events


def _insert_rows(conn: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert `rows` into `table` with one prepared statement through the SQLite driver
    (`executemany`): SQLAlchemy's per-row statement machinery was most of the seeding time."""
    if not rows:
        return
    names = list(rows[0])
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.executemany(sql, [tuple(row[name] for name in names) for row in rows])
    finally:
        cursor.close()


def _write_batch(conn: Any, batch: list[tuple[Any, str]]) -> None:
    """Store `batch` (runs and their events) as storage's own writes store them, its rows made
    by the storage codec (the selection kept by reference as `create_run` keeps it, with its
    asset keys once per selection), but one prepared statement per table instead of a
    statement per row."""
    from bakehouse.storage import codec, schema, selections

    run_rows, tag_rows, asset_rows, event_rows = [], [], [], []
    for run, end in batch:
        run_rows.append(codec.run_to_row(run, selections.store(conn, run)))
        tag_rows += codec.run_tag_rows(run)
        asset_rows += codec.run_asset_rows(run)
        first = run.asset_selection[0] if run.selection_query != "*" else None
        event_rows += [codec.event_to_row(e) for e in _events(run, first, run.created_at, end)]
    _insert_rows(conn, schema.runs, run_rows)
    _insert_rows(conn, schema.run_tags, tag_rows)
    _insert_rows(conn, schema.run_assets, asset_rows)
    _insert_rows(conn, schema.event_logs, event_rows)


def _index_latest(conn: Any) -> None:
    """The asset index (`asset_keys`): each asset's newest materialization, as store_event
    keeps it, rebuilt once after the batches."""
    import sqlalchemy as sa

    from bakehouse.storage import codec, schema

    log = schema.event_logs
    newest = (
        sa.select(sa.func.max(log.c.id))
        .where(log.c.event_type == "ASSET_MATERIALIZATION")
        .group_by(log.c.asset_key)
    )
    rows = conn.execute(sa.select(log.c.id, log.c.body).where(log.c.id.in_(newest))).all()
    index = [codec.materialization_to_row(codec.event_from_row(r.id, r.body)) for r in rows]
    if index:
        conn.execute(sa.insert(schema.asset_keys), index)


def populate(home: Path, keys: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """Write the history into a fresh instance at `home`; what the measurements need of it."""
    from bakehouse.storage import Instance

    shutil.rmtree(home, ignore_errors=True)
    history = _history(keys, args.runs, args.star_every, args.seed)
    started = time.perf_counter()
    with Instance.for_home(home) as instance:
        db = instance._db
        for start in range(0, len(history), RUNS_PER_TRANSACTION):
            with db.write() as conn:
                # A large page cache: the indexes of random digests and ids are written all
                # over; with SQLite's default 2 MB each insert read pages back from the file.
                conn.exec_driver_sql(f"PRAGMA cache_size = {-SEED_CACHE_KIB}")
                _write_batch(conn, history[start : start + RUNS_PER_TRANSACTION])
        with db.write() as conn:
            _index_latest(conn)
        long_runs = {}
        # The long runs go through the public calls, as a run worker writes them.
        for steps in (args.steps, 1_000):
            run, events = _long_run(keys, steps, history[-1][0].created_at + 10 + steps)
            instance.create_run(run)
            for start in range(0, len(events), 5_000):
                instance.store_events(events[start : start + 5_000])
            long_runs[steps] = run.run_id
    # The asset most runs selected (the jobs' assets overlap; `*` selects every one).
    counts: dict[str, int] = {}
    for run, _ in history:
        if run.selection_query != "*":
            for key in run.asset_selection:
                counts[key] = counts.get(key, 0) + 1
    busiest = max(counts, key=lambda k: counts[k])
    return {
        "seconds": time.perf_counter() - started,
        "oldest": history[0][0].run_id,
        "long_run": long_runs[args.steps],
        "thousand_run": long_runs[1_000],
        "asset": busiest,
        "asset_runs": counts[busiest] + args.runs // args.star_every,
    }


# -- measuring ---------------------------------------------------------------------------------


def _timed(http: httpx.Client, path: str, reps: int) -> dict[str, float]:
    started = time.perf_counter()
    response = http.get(path)
    first = time.perf_counter() - started
    if response.status_code == 404:
        return {"missing": 1.0}
    response.raise_for_status()
    warm = []
    for _ in range(reps):
        started = time.perf_counter()
        http.get(path).raise_for_status()
        warm.append(time.perf_counter() - started)
    return {
        "first_ms": first * 1000,
        "warm_ms": statistics.median(warm) * 1000,
        "bytes": float(len(response.content)),
    }


def _find_run_ms(home: Path, run_id: str, reps: int) -> float:
    from bakehouse.storage import Instance

    with Instance.for_home(home) as instance:
        prefix = run_id[:8]
        if not hasattr(instance, "find_run"):
            return float("nan")  # before the prefix query: `bh runs show` read 10,000 runs
        assert instance.find_run(prefix).run_id == run_id
        times = []
        for _ in range(reps):
            started = time.perf_counter()
            instance.find_run(prefix)
            times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _cli_show_ms(project: Path, run_id: str) -> tuple[float, bool]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAKEHOUSE_")}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bakehouse", "runs", "show", run_id[:8], "--json"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return (time.perf_counter() - started) * 1000, done.returncode == 0


def measure(project: Path, facts: dict[str, Any], reps: int) -> dict[str, Any]:
    """Every row, on a `bh dev` serving `project` (whose instance holds the history)."""
    ui = _ui_bench()
    home = project / ".bakehouse"
    rows: dict[str, Any] = {}
    with ui.Dev(project) as dev, httpx.Client(base_url=dev.url, timeout=600) as http:
        rows["loaded_s"] = ui._wait_loaded(http)
        long_run = facts["long_run"]
        paths = {
            "runs_page": "/runs",
            "api_runs": "/api/runs",
            "asset_page": "/assets/" + "/".join(quote(p) for p in facts["asset"].split("/")),
            "long_run_page": f"/runs/{long_run}",
            "long_run_header": f"/runs/{long_run}?part=header",
            "long_run_events": f"/api/runs/{long_run}/events?from_end=true",
            "long_run_steps": f"/api/runs/{long_run}/steps",
            "thousand_run_page": f"/runs/{facts['thousand_run']}",
        }
        for name, path in paths.items():
            rows[name] = _timed(http, path, reps)
    rows["find_run_ms"] = _find_run_ms(home, facts["oldest"], reps)
    rows["cli_show_ms"], rows["cli_show_ok"] = _cli_show_ms(project, facts["oldest"])
    return rows


# -- report ------------------------------------------------------------------------------------


def _ms(row: dict[str, float]) -> str:
    if "missing" in row:
        return "(no such endpoint)"
    return f"{row['first_ms']:.0f} / **{row['warm_ms']:.1f}**"


def _size(row: dict[str, float]) -> str:
    if "missing" in row:
        return "—"
    n = row["bytes"]
    return f"{n / 1e6:.2f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


def report(args: argparse.Namespace, facts: dict[str, Any], rows: dict[str, Any]) -> str:
    """The Markdown section for docs/benchmarks.md."""
    find = rows["find_run_ms"]
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    lines = [
        BEGIN,
        f"## {args.runs:,} stored runs, and a run of {args.steps:,} steps "
        "(`bench/runs_scale_bench.py`)",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, bakehouse at commit "
        f"{commit or 'unknown'}, load average {os.getloadavg()[0]:.2f} at the end. "
        f"{args.runs:,} runs written through storage ({facts['seconds']:.0f} s), one in "
        f"{args.star_every:,} a run of `*` over {args.assets:,} assets, the rest schedule, UI and "
        f"sensor runs of 1 to 20 assets; a project of {args.assets:,} assets served by "
        "`bh dev --no-reload`. First call / **median of "
        f"{args.reps} warm calls**, ms, one kept-alive connection; {platform.machine()}, "
        f"{os.cpu_count()} cores shared with other work, Python {platform.python_version()}, "
        "SQLite. Target: each warm row under 50 ms, the long run's first screen under 100 ms.",
        "",
        "| what | ms | size |",
        "|---|---|---|",
        f"| runs page `/runs` (50 runs) | {_ms(rows['runs_page'])} | {_size(rows['runs_page'])} |",
        f"| `/api/runs` (50 runs) | {_ms(rows['api_runs'])} | {_size(rows['api_runs'])} |",
        f"| a run by short id (`Instance.find_run`, 8 characters, the oldest run) | "
        f"**{find:.2f}** | — |",
        f"| `bh runs show PREFIX --json` as a process (wall, start-up included) | "
        f"{rows['cli_show_ms']:.0f}{'' if rows['cli_show_ok'] else ' (failed)'} | — |",
        f"| asset page `/assets/{facts['asset']}` ({facts['asset_runs']:,} runs select it) | "
        f"{_ms(rows['asset_page'])} | {_size(rows['asset_page'])} |",
        f"| {args.steps:,}-step run: page, first screen | {_ms(rows['long_run_page'])} | "
        f"{_size(rows['long_run_page'])} |",
        f"| {args.steps:,}-step run: header fragment | {_ms(rows['long_run_header'])} | "
        f"{_size(rows['long_run_header'])} |",
        f"| {args.steps:,}-step run: `/api/runs/ID/events?from_end=true` (200 events) | "
        f"{_ms(rows['long_run_events'])} | {_size(rows['long_run_events'])} |",
        f"| {args.steps:,}-step run: `/api/runs/ID/steps` (the timeline's window of 300 steps) | "
        f"{_ms(rows['long_run_steps'])} | {_size(rows['long_run_steps'])} |",
        f"| 1,000-step run: page | {_ms(rows['thousand_run_page'])} | "
        f"{_size(rows['thousand_run_page'])} |",
        "",
        _against_targets(rows),
        "",
        "Before (this bench on this machine, loaded, before run selections kept their keys once "
        "per selection, the asset page used the cached merged graph and the timeline read a "
        "window of steps): writing the history took 1,047 s; `/runs` 148 ms, `/api/runs` "
        "114 ms, the asset page 1,855 ms (building the merged graph of 20,000 assets on every "
        "call, for its automation card), the 10,000-step run's first screen 181 ms, "
        "`/api/runs/ID/steps` 1,494 ms for all 10,000 steps (960 kB). Earlier still (the "
        "issue's measurement): `/runs` after 50 runs of a 20,000-asset `*` was a 10 MB page, a "
        "1,000-step run's page 2.6 MB, and `bh runs show PREFIX` could not find a run older than "
        "the newest 10,000. The first call of `/runs` and of the asset page includes building "
        "the merged graph of 20,000 assets once per definitions version (it is cached after). "
        "Times are from a machine whose two cores other work may share: compare sizes and the "
        "order of magnitude, not the last millisecond.",
        "",
        END,
    ]
    return "\n".join(lines)


def _against_targets(rows: dict[str, Any]) -> str:
    """One sentence: which warm rows meet their target in this run and which do not."""
    goals = {
        "the runs page": (rows["runs_page"], GOAL_MS),
        "`/api/runs`": (rows["api_runs"], GOAL_MS),
        "the asset page": (rows["asset_page"], GOAL_MS),
        "the long run's first screen": (rows["long_run_page"], FIRST_SCREEN_GOAL_MS),
    }
    met, missed = [], []
    for name, (row, goal) in goals.items():
        if "missing" in row:
            missed.append(f"{name} (no such endpoint)")
            continue
        text = f"{name} ({row['warm_ms']:.0f} ms, target {goal:.0f})"
        (met if row["warm_ms"] < goal else missed).append(text)
    find = rows["find_run_ms"]
    (met if find < GOAL_MS else missed).append(f"the short id ({find:.2f} ms)")
    said = "Against the targets (this run, warm medians): "
    said += "met: " + ", ".join(met) if met else "none met"
    if missed:
        said += "; not met: " + ", ".join(missed)
    return said + "."


def _write_docs(section: str) -> None:
    text = DOC.read_text()
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    DOC.write_text(text)


def main() -> None:
    """Generate (or reuse) the project and instance, measure, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--assets", type=int, default=20_000)
    parser.add_argument("--star-every", type=int, default=2_000)
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument(
        "--work", type=Path, default=WORK, help="where the project and its instance are kept"
    )
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument("--write-docs", action="store_true", help="rewrite docs/benchmarks.md")
    args = parser.parse_args()
    # `bh dev` runs in the project's folder: a relative PYTHONPATH (src) would point elsewhere.
    if os.environ.get("PYTHONPATH"):
        paths = os.environ["PYTHONPATH"].split(os.pathsep)
        os.environ["PYTHONPATH"] = os.pathsep.join(str(Path(p).resolve()) for p in paths)
    if args.steps > args.assets:
        parser.error("--steps cannot exceed --assets (a step per asset)")
    gen = _ui_bench()._gen_project()
    project = gen.generate(args.work / "projects", "bakehouse", "layered", args.assets)
    keys = gen.asset_names("layered", args.assets)
    # A schema revision added since is applied when the instance opens, as for any user's.
    stamp = json.dumps(
        {
            "runs": args.runs,
            "assets": args.assets,
            "star_every": args.star_every,
            "steps": args.steps,
            "seed": args.seed,
        },
        sort_keys=True,
    )
    stamp_file = project / ".bakehouse" / "bench-stamp.json"
    facts_file = project / ".bakehouse" / "bench-facts.json"
    if stamp_file.exists() and stamp_file.read_text() == stamp and facts_file.exists():
        facts = json.loads(facts_file.read_text())
        print(f"reusing the instance in {project / '.bakehouse'}", flush=True)
    else:
        print(f"writing {args.runs:,} runs into {project / '.bakehouse'} ...", flush=True)
        facts = populate(project / ".bakehouse", keys, args)
        facts_file.write_text(json.dumps(facts))
        stamp_file.write_text(stamp)
        print(f"  {facts['seconds']:.0f} s", flush=True)
    rows = measure(project, facts, args.reps)
    section = report(args, facts, rows)
    print(section)
    if args.json:
        args.json.write_text(json.dumps({"facts": facts, "rows": rows}, indent=2))
    if args.write_docs:
        _write_docs(section)


if __name__ == "__main__":
    main()

"""The write path: what one step of a 1,000-step run costs, side by side with Dagster 1.13.

    .venv/bin/python bench/write_path_bench.py [--steps 1000] [--reps 3] [--dagster-mp-steps 100]
                                      [--only bakehouse|dagster] [--write-docs]

Each tool materializes the same generated chain (bench/gen_project.py, `a_i(a_{i-1}) -> int`, so
every value goes through the default IO manager) with ``bh launch --assets '*'`` and
``dagster asset materialize --select '*'``. The figure is **per step in the worker**: from the
first STEP_START to the last STEP_SUCCESS in the run's own event log, divided by the number of
steps, so process start-up and code loading are out of it (they are the wall rows). Rows:

- in process (``in_process_executor``, both tools) and with each tool's multiprocess executor;
- bakehouse on SQLite at ``durability=full`` (``synchronous=FULL``: Dagster's SQLite storage
  commits that way, so these are the headline rows) and ``normal`` (the default), and on the
  local PostgreSQL (``normal``: ``synchronous_commit=off``; ``full``: the server's ``on``);
- Dagster on its default storage (SQLite; bench/README.md says what is unequal). Its
  multiprocess executor costs about 2 s a step here, so that row runs ``--dagster-mp-steps``
  steps (default 100), once.

Also measured in this process, with no run around them: the launcher's console output
(`RunFollower` fed the events of a 1,000-step run, on a terminal and not) and the storage alone
(`EventWriter` storing five events per step, one transaction per step).

The bakehouse side is the repo's own ``.venv`` with ``PYTHONPATH=<repo>/src`` (the working tree
is measured); Dagster is ``bench/.venv-dagster`` as bench/run.py makes it (never a dependency).
With ``--write-docs`` the results replace the section between ``<!-- write_path_bench: begin -->``
and ``<!-- write_path_bench: end -->`` in docs/benchmarks.md (bench/run.py keeps it).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WORK = BENCH / ".work" / "write_path"
DOC = REPO / "docs" / "benchmarks.md"
BEGIN = "<!-- write_path_bench: begin -->"
END = "<!-- write_path_bench: end -->"
BAKEHOUSE_PYTHON = REPO / ".venv" / "bin" / "python"
POSTGRES_ADMIN = os.environ.get(
    "BAKEHOUSE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)

sys.path.insert(0, str(BENCH))
# The working tree's bakehouse (run with the repo's .venv, which has its dependencies).
sys.path.insert(0, str(REPO / "src"))
import gen_project  # noqa: E402
import run as bench_run  # noqa: E402  (bench/run.py: the Dagster venv, clean environments)

Row = dict[str, object]
DASH = "\u2013"  # en dash, as the other tables in docs/benchmarks.md


def _clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = bench_run.clean_env()
    env.update(extra)
    return env


def _timed(argv: list[str], cwd: Path, env: dict[str, str], timeout: float) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return wall


# --------------------------------------------------------------------------- bakehouse


# What the runs leave (their folders, their PostgreSQL databases) is removed only once every
# row is measured (`remove_leftovers`). On this machine's ext4, mounted with `discard`, removing
# one run's ~4,000 files (and a database's) made file creation in the next runs 3-5 times slower
# for minutes: measured in turn, 1,000-step runs took 0.83 then 2.9-4.4 ms per step when each
# run's folder was removed after it, 0.84-1.13 ms (median 0.92) when kept. A deployment does not
# delete a run between every two runs, so neither does the bench.
_LEFTOVER_DIRS: list[Path] = []
_LEFTOVER_DATABASES: list[str] = []


def _admin_engine() -> Any:
    import sqlalchemy as sa

    return sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")


def _postgres_url(prefix: str) -> str:
    """A fresh database on the local server, named `prefix` plus a number of its own."""
    import sqlalchemy as sa

    name = f"{prefix}_{len(_LEFTOVER_DATABASES)}"
    admin = _admin_engine()
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()
    _LEFTOVER_DATABASES.append(name)
    return sa.engine.make_url(POSTGRES_ADMIN).set(database=name).render_as_string(False)


def _run_home(prefix: str) -> Path:
    home = Path(tempfile.mkdtemp(prefix=prefix, dir=WORK))
    _LEFTOVER_DIRS.append(home)
    return home


def remove_leftovers() -> None:
    """Remove the runs' folders and databases, after the measurements."""
    for home in _LEFTOVER_DIRS:
        shutil.rmtree(home, ignore_errors=True)
    _LEFTOVER_DIRS.clear()
    if _LEFTOVER_DATABASES:
        admin = _admin_engine()
        try:
            with admin.connect() as conn:
                for name in _LEFTOVER_DATABASES:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            admin.dispose()
        _LEFTOVER_DATABASES.clear()


def _bakehouse_steps(url: str) -> tuple[int, float]:
    """Steps and seconds from the first STEP_START to the last STEP_SUCCESS of the newest run."""
    from bakehouse.storage import Instance

    with Instance.open(url, storage_dir=WORK / "unused-storage") as instance:
        (run,) = instance.get_runs(limit=1)
        events = instance.get_events(run.run_id)
    starts = [e.timestamp for e in events if e.event_type == "STEP_START"]
    ends = [e.timestamp for e in events if e.event_type == "STEP_SUCCESS"]
    if run.status.value != "SUCCESS" or not ends:
        raise RuntimeError(f"bakehouse run {run.run_id} ended {run.status.value}")
    return len(ends), max(ends) - min(starts)


def bakehouse_run(project: Path, storage: str, durability: str, executor: str) -> Row:
    """One `bh launch` of the chain; its wall and per-step time in the worker."""
    home = _run_home("bh-")
    if storage == "sqlite":
        url = f"sqlite:///{home}/bakehouse.db?durability={durability}"
    else:
        url = _postgres_url("bench_write_path") + f"?durability={durability}"
    env = _clean_env(
        {
            "PATH": f"{BAKEHOUSE_PYTHON.parent}:{os.environ.get('PATH', '')}",
            "PYTHONPATH": f"{REPO / 'src'}:{project / 'src'}",
            "BAKEHOUSE_HOME": str(home),
            "BAKEHOUSE_STORAGE_URL": url,
        }
    )
    if executor == "in_process":
        env["BENCH_EXECUTOR"] = "in_process"
    argv = [str(BAKEHOUSE_PYTHON), "-m", "bakehouse", "launch", "--assets", "*"]
    argv += ["--executor", executor]
    wall = _timed(argv, project, env, timeout=1200)
    steps, span = _bakehouse_steps(url)
    return {"wall": wall, "steps": steps, "per_step_ms": span / steps * 1000}


# --------------------------------------------------------------------------- Dagster


def _dagster_steps(home: Path) -> tuple[int, float]:
    """Steps and seconds from the first STEP_START to the last STEP_SUCCESS of the one run
    in `home` (Dagster keeps each run's events in ``history/runs/<run id>.db``)."""
    # Beside the run's own file the folder holds index.db (the runs table).
    (db,) = [p for p in (home / "history" / "runs").glob("*.db") if p.name != "index.db"]
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        rows = conn.execute(
            "SELECT dagster_event_type, timestamp FROM event_logs "
            "WHERE dagster_event_type IN ('STEP_START', 'STEP_SUCCESS')"
        ).fetchall()
    starts = [_seconds(t) for kind, t in rows if kind == "STEP_START"]
    ends = [_seconds(t) for kind, t in rows if kind == "STEP_SUCCESS"]
    return len(ends), max(ends) - min(starts)


def _seconds(stamp: object) -> float:
    if isinstance(stamp, (int, float)):
        return float(stamp)
    from datetime import datetime, timezone

    return datetime.fromisoformat(str(stamp)).replace(tzinfo=timezone.utc).timestamp()


def dagster_run(project: Path, pkg: str, executor: str) -> Row:
    """One `dagster asset materialize` of the chain; its wall and per-step time in the run."""
    venv = bench_run.VENVS["dagster"]
    home = _run_home("dg-")
    (home / "dagster.yaml").write_text(bench_run.DAGSTER_YAML)
    env = _clean_env(
        {
            "PATH": f"{venv.path / 'bin'}:{os.environ.get('PATH', '')}",
            "PYTHONPATH": str(project / "src"),
            "DAGSTER_HOME": str(home),
        }
    )
    if executor == "in_process":
        env["BENCH_EXECUTOR"] = "in_process"
    argv = [str(venv.bin("dagster")), "asset", "materialize", "--select", "*"]
    argv += ["-m", f"{pkg}.definitions"]
    wall = _timed(argv, project, env, timeout=3600)
    steps, span = _dagster_steps(home)
    return {"wall": wall, "steps": steps, "per_step_ms": span / steps * 1000}


# --------------------------------------------------------------------------- in this process


def console_cost(steps: int, terminal: bool) -> float:
    """CPU milliseconds per step the launcher's `RunFollower` spends on a 1,000-step run's
    events, handed over a step at a time (`bh launch` polls every 50 ms and gets a batch)."""
    from rich.console import Console

    from bakehouse.cli.progress import RunFollower
    from bakehouse.storage.records import EventRecord, EventType

    def event(kind: EventType, step: str, **data: object) -> EventRecord:
        return EventRecord(
            run_id="r", event_type=kind, timestamp=time.time(), step_key=step, data=data
        )

    out = Console(file=io.StringIO(), force_terminal=terminal, width=100)
    follower = RunFollower(out, total=steps)
    batches = [
        [
            event(EventType.STEP_START, f"a_{i:05d}"),
            event(EventType.ASSET_MATERIALIZATION, f"a_{i:05d}", metadata={}),
            event(EventType.STEP_SUCCESS, f"a_{i:05d}", duration_ms=1.2),
        ]
        for i in range(steps)
    ]
    # CPU time, not wall: the machine is shared, and this is what the launcher's process spends
    # (the progress bar's own refresh thread included).
    started = time.process_time()
    for batch in batches:
        for item in batch:
            follower.handle(item)
        follower.render()
    follower.close()
    return (time.process_time() - started) / steps * 1000


def storage_cost(url: str, steps: int) -> float:
    """Milliseconds per step to store five events a step through `EventWriter` (one commit per
    step), with no step around them: the storage's share of the worker's figure."""
    from bakehouse.execution.events import EventWriter
    from bakehouse.storage import Instance
    from bakehouse.storage.records import EventType, RunRecord

    with Instance.open(url, storage_dir=WORK / "unused-storage") as instance:
        instance.create_run(RunRecord(run_id="bench"))
        with EventWriter(instance, "bench", flush_interval=3600) as writer:
            started = time.perf_counter()
            for i in range(steps):
                key = f"a_{i:05d}"
                writer.emit(EventType.STEP_START, "Started.", step_key=key)
                writer.emit(EventType.STEP_INPUT, "Loaded.", step_key=key)
                writer.emit(EventType.STEP_OUTPUT, "Stored.", step_key=key)
                writer.emit(
                    EventType.ASSET_MATERIALIZATION, "Materialized.", step_key=key,
                    asset_key=key, data={"metadata": {}},
                )  # fmt: skip
                writer.emit(EventType.STEP_SUCCESS, "Finished.", step_key=key)
            elapsed = time.perf_counter() - started
    return elapsed / steps * 1000


# --------------------------------------------------------------------------- report


def _median(values: list[float]) -> str:
    if not values:
        return "—"
    shown = f"{statistics.median(values):.2f}"
    if len(values) > 1:
        shown += f" ({min(values):.2f}{DASH}{max(values):.2f}, n={len(values)})"
    return shown


def measure(args: argparse.Namespace) -> list[tuple[str, str, str, str]]:
    """Rows: (what, bakehouse ms/step, Dagster ms/step, note)."""
    WORK.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[str, str, str, str]] = []
    tools = [args.only] if args.only else ["bakehouse", "dagster"]
    pkg = gen_project.package_name("chain", args.steps)
    projects = WORK / "projects"
    for tool in tools:
        gen_project.generate(projects, tool, "chain", args.steps)
    bakehouse_project = projects / "bakehouse" / pkg
    dagster_project = projects / "dagster" / pkg
    # The chain lets bakehouse's multiprocess executor hand each step to the next in the same
    # process (bench/README.md); a fan-out (one root, its leaves) has no chain, so every step
    # goes through the run worker: that row shows the executor's round trip.
    fanout_project = projects / "bakehouse" / gen_project.package_name("fanout", args.steps)
    if "bakehouse" in tools:
        gen_project.generate(projects, "bakehouse", "fanout", args.steps)

    def reps(fn: Callable[[], Row], n: int) -> list[Row]:
        done = []
        for rep in range(n):
            row = fn()
            print(f"    rep {rep + 1}: {json.dumps(row)}", flush=True)
            done.append(row)
        return done

    dagster: dict[str, list[Row]] = {}
    if "dagster" in tools:
        error = bench_run.ensure_venv(
            bench_run.VENVS["dagster"], shutil.which("python3") or sys.executable, force=False
        )
        if error:
            sys.exit(f"write_path_bench: cannot make the Dagster venv: {error}")
        print("Dagster, in process", flush=True)
        dagster["in_process"] = reps(
            lambda: dagster_run(dagster_project, pkg, "in_process"), args.dagster_reps
        )
        mp_pkg = gen_project.package_name("chain", args.dagster_mp_steps)
        gen_project.generate(projects, "dagster", "chain", args.dagster_mp_steps)
        print(f"Dagster, multiprocess ({args.dagster_mp_steps} steps)", flush=True)
        dagster["multiprocess"] = reps(
            lambda: dagster_run(projects / "dagster" / mp_pkg, mp_pkg, "multiprocess"), 1
        )
    variants = [
        ("SQLite, durability=full", "sqlite", "full"),
        ("SQLite, durability=normal (default)", "sqlite", "normal"),
        ("PostgreSQL, durability=normal", "postgresql", "normal"),
        ("PostgreSQL, durability=full", "postgresql", "full"),
    ]
    configs = [
        (executor, label, storage, durability, bakehouse_project)
        for executor in ("in_process", "multiprocess")
        for label, storage, durability in variants
    ]
    configs.append(
        (
            "multiprocess",
            "SQLite, durability=normal, a fan-out (no chain: a round trip per step)",
            "sqlite",
            "normal",
            fanout_project,
        )
    )
    # Rounds over every configuration rather than each configuration's runs back to back: this
    # machine's disk has slow phases lasting minutes (file creation and WAL writes several times
    # slower), and back-to-back runs would let one phase land on one row only.
    ours_by_config: dict[tuple[str, str], list[Row]] = {}
    if "bakehouse" in tools:
        for round_no in range(args.reps):
            for executor, label, storage, durability, project in configs:
                print(f"bakehouse, round {round_no + 1}, {executor}, {label}", flush=True)
                row = bakehouse_run(project, storage, durability, executor)
                print(f"    {json.dumps(row)}", flush=True)
                ours_by_config.setdefault((executor, label), []).append(row)
    for executor, label, storage, durability, project in configs:
        theirs = dagster.get(executor, []) if project == bakehouse_project else []
        ours = ours_by_config.get((executor, label), [])
        dagster_cell = _median([float(r["per_step_ms"]) for r in theirs])  # type: ignore[arg-type]
        note = ""
        if theirs:
            note = f"Dagster: {theirs[0]['steps']} steps, its default SQLite storage"
        rows.append(
            (
                f"per step in the worker, {executor.replace('_', '-')}, {label}",
                _median([float(r["per_step_ms"]) for r in ours]),  # type: ignore[arg-type]
                dagster_cell if storage == "sqlite" and durability == "full" else "—",
                note if storage == "sqlite" and durability == "full" else "",
            )
        )
        if ours:
            rows.append(
                (
                    f"  wall of the whole command, {executor.replace('_', '-')}, {label} (s)",
                    _median([float(r["wall"]) for r in ours]),  # type: ignore[arg-type]
                    _median([float(r["wall"]) for r in theirs])  # type: ignore[arg-type]
                    if storage == "sqlite" and durability == "full"
                    else "—",
                    "",
                )
            )
    if "bakehouse" in tools:
        for terminal in (True, False):
            costs = [console_cost(args.steps, terminal) for _ in range(args.reps)]
            where = "a terminal (progress bar)" if terminal else "a pipe"
            rows.append((f"launcher console output per step, to {where}", _median(costs), "—", ""))
        for label, make_url in (
            ("SQLite, durability=full", lambda: f"sqlite:///{_fresh_file()}?durability=full"),
            ("SQLite, durability=normal", lambda: f"sqlite:///{_fresh_file()}"),
            ("PostgreSQL, durability=normal", lambda: _postgres_url("bench_write_path")),
            (
                "PostgreSQL, durability=full",
                lambda: _postgres_url("bench_write_path") + "?durability=full",
            ),
        ):
            costs = [storage_cost(make_url(), args.steps) for _ in range(args.reps)]
            rows.append((f"storage alone: 5 events per step, {label}", _median(costs), "—", ""))
    return rows


def _fresh_file() -> Path:
    return _run_home("st-") / "bakehouse.db"


def section(rows: list[tuple[str, str, str, str]], args: argparse.Namespace) -> str:
    """The docs/benchmarks.md section of these rows."""
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    load = os.getloadavg()[0]
    lines = [
        BEGIN,
        "## The write path: per step of a 1,000-step run (bench/write_path_bench.py)",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, bakehouse at commit "
        f"{commit}, load average {load:.2f} at the end (the machine's 2 cores are shared with "
        "other work). Written by `.venv/bin/python bench/write_path_bench.py --write-docs`; "
        "how it measures and what is unequal: "
        "[bench/README.md](../bench/README.md#the-write-path-write_path_benchpy).",
        "",
        f"Milliseconds per step, median (min{DASH}max, n) of {args.reps} runs of "
        f"{args.steps} steps (Dagster's in-process row: "
        f"{args.dagster_reps} run(s); its multiprocess row: one run of {args.dagster_mp_steps} "
        "steps). *In the worker*: from the run's first STEP_START to its last STEP_SUCCESS in "
        "its own event log, divided by the steps. Headline rows: SQLite at `durability=full`, "
        "Dagster's level. Targets (issue 15): ≤ 1.0 ms per step in the worker on SQLite "
        "`normal`, ≤ 2 times that on PostgreSQL; console output < 0.1 ms per step.",
        "",
        "| row | bakehouse | Dagster 1.13 | note |",
        "|---|---|---|---|",
    ]
    lines += [f"| {what} | {ours} | {theirs} | {note} |" for what, ours, theirs, note in rows]
    lines += ["", END]
    return "\n".join(lines)


def write_docs(text: str) -> None:
    """Put `text` into docs/benchmarks.md, replacing an earlier one."""
    doc = DOC.read_text()
    if BEGIN in doc and END in doc:
        head, rest = doc.split(BEGIN, 1)
        doc = head + text + rest.split(END, 1)[1]
    else:
        doc = doc.rstrip("\n") + "\n\n" + text + "\n"
    DOC.write_text(doc)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--dagster-reps", type=int, default=1)
    parser.add_argument("--dagster-mp-steps", type=int, default=100)
    parser.add_argument("--only", choices=["bakehouse", "dagster"])
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    try:
        rows = measure(args)
    finally:
        remove_leftovers()
    text = section(rows, args)
    print(text)
    if args.write_docs:
        write_docs(text)


if __name__ == "__main__":
    main()

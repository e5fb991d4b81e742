"""Per-step overhead of a Celery executor, bakehouse's and Dagster's, on the same project: the
generated fan-out of N trivial assets (bench/gen_project.py, one root and N-1 leaves taking it
as input) with `BENCH_EXECUTOR=celery`, which merges each tool's `celery_executor` configured
with the same Redis as broker and result backend (a database number of its own per tool).

- bakehouse: `bh launch --assets '*'` with 2 workers `bh worker start --concurrency 1`, from
  this repository's sources (`PYTHONPATH=<repo>/src`, the dev venv, which has celery and redis),
  SQLite storage in a fresh `BAKEHOUSE_HOME`.
- Dagster: `dagster asset materialize --select '*' -m <pkg>.definitions` with 2 workers
  `dagster-celery worker start -y <config.yaml> -A dagster_celery.app -q dagster -- -c 1`, from
  bench/.venv-dagster (made as bench/run.py makes it, plus `dagster-celery[redis]` of the same
  release), a fresh shared `DAGSTER_HOME` (its default SQLite storage).

Per-step time = (run time at N=100 - run time at N=10) / 90, the run time read from each run's
own RUN_START and RUN_SUCCESS events (so process start-up and loading are left out); with 2
workers taking steps in parallel, each step's own overhead is about twice that. The assets do
nothing, so all of it is the executor's. Every worker started is stopped (SIGTERM to its
process group, SIGKILL after 60 s), also on errors.

    .venv/bin/python bench/celery_bench.py [--repeat 3] [--tools bakehouse,dagster]
        [--broker redis://127.0.0.1:6379/9] [--dagster-broker redis://127.0.0.1:6379/10]
        [--json OUT] [--write-docs]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen_project
import run as bench_run

REPO = Path(__file__).resolve().parents[1]
PROJECTS = bench_run.WORK / "projects"
DOCS = REPO / "docs" / "benchmarks.md"
BEGIN, END = "<!-- celery_bench: begin -->", "<!-- celery_bench: end -->"
SIZES = (10, 100)
WORKERS = 2
RUN_TIMEOUT = 900

# Read in bench/.venv-dagster: the last run's status, RUN_START..RUN_SUCCESS and its steps.
DAGSTER_RUN_TIME = """\
import json
from dagster import DagsterEventType, DagsterInstance

with DagsterInstance.get() as instance:
    run = instance.get_runs(limit=1)[0]
    records = instance.all_logs(run.run_id)
stamps = {}
steps = 0
celery_steps = 0
for record in records:
    event = record.dagster_event
    if event is None:
        continue
    if event.event_type in (DagsterEventType.RUN_START, DagsterEventType.RUN_SUCCESS):
        stamps[event.event_type.name] = record.timestamp
    steps += event.event_type == DagsterEventType.STEP_SUCCESS
    celery_steps += "in celery worker" in (record.message or "")
print(json.dumps({"status": run.status.value, "stamps": stamps, "steps": steps,
                  "celery_steps": celery_steps}))
"""


def dagster_venv() -> Path:
    """bench/.venv-dagster's bin directory, with dagster-celery[redis] of Dagster's release."""
    python = bench_run.dagster_venv_with(
        "dagster_celery, redis", ["dagster-celery[redis]"], "celery_bench"
    )
    return python.parent


def wait_ready(logs: list[Path], what: str) -> None:
    """Until every Celery worker log says `ready.` (both tools' workers are Celery's)."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if all(log.exists() and "ready." in log.read_text(errors="replace") for log in logs):
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} workers did not start; see {', '.join(map(str, logs))}")


@contextmanager
def workers(argvs: list[list[str]], cwd: Path, env: dict[str, str], logs: Path) -> Iterator[None]:
    """Start one process per argv (each in its own session, so a stop reaches its Celery pool),
    wait until each says ready, and stop them all on the way out, whatever happened."""
    procs: list[subprocess.Popen[bytes]] = []
    paths = [logs / f"worker-{i}.log" for i in range(len(argvs))]
    try:
        for argv, path in zip(argvs, paths, strict=True):
            with path.open("wb") as out:
                procs.append(
                    subprocess.Popen(
                        argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )  # fmt: skip
        wait_ready(paths, argvs[0][0])
        yield
    finally:
        for proc in procs:
            _signal_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 60
        for proc in procs:
            try:
                proc.wait(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            # The pool's children and a wrapper's `celery` child share the group.
            _signal_group(proc.pid, signal.SIGKILL)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def run_checked(argv: list[str], cwd: Path, env: dict[str, str]) -> None:
    """Run a launch command in its own session; on a timeout its whole group is killed."""
    proc = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        out, _ = proc.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        _signal_group(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise RuntimeError(f"{' '.join(argv)} timed out after {RUN_TIMEOUT} s") from None
    _signal_group(proc.pid, signal.SIGKILL)  # nothing of a finished run may linger
    if proc.returncode:
        tail = out.decode(errors="replace")[-2000:]
        raise RuntimeError(f"{' '.join(argv)} failed (rc={proc.returncode}):\n{tail}")


def bakehouse_times(n: int, broker: str, repeat: int, tmp: Path) -> list[float]:
    """Run times of the fan-out of `n` on 2 bakehouse workers (after one untimed warm-up)."""
    project = gen_project.generate(PROJECTS, "bakehouse", "fanout", n)
    home = tmp / f"bakehouse-home-{n}"
    env = bench_run.clean_env()
    env.update(
        PYTHONPATH=f"{REPO / 'src'}{os.pathsep}{project / 'src'}",
        BAKEHOUSE_HOME=str(home),
        BENCH_EXECUTOR="celery",
        BENCH_CELERY_BROKER=broker,
    )
    bh = [sys.executable, "-m", "bakehouse"]
    worker = [*bh, "worker", "start", "--concurrency", "1"]
    logs = tmp / f"bakehouse-logs-{n}"
    logs.mkdir()

    def once() -> float:
        run_checked([*bh, "launch", "--assets", "*", "--quiet"], project, env)
        from bakehouse.storage import Instance
        from bakehouse.storage.records import EventType

        with Instance.for_home(home) as instance:
            run = instance.get_runs(limit=1)[0]
            events = instance.get_events(run.run_id)
        steps = sum(e.event_type == EventType.STEP_SUCCESS for e in events)
        if steps != n:
            raise RuntimeError(f"bakehouse run {run.run_id}: {steps} steps succeeded, not {n}")
        start = next(e.timestamp for e in events if e.event_type == EventType.RUN_START)
        end = next(e.timestamp for e in events if e.event_type == EventType.RUN_SUCCESS)
        return end - start

    with workers([worker] * WORKERS, project, env, logs):
        return _repeat(once, repeat)


def dagster_times(n: int, broker: str, repeat: int, tmp: Path, bin_dir: Path) -> list[float]:
    """Run times of the fan-out of `n` on 2 dagster-celery workers (after one untimed warm-up)."""
    project = gen_project.generate(PROJECTS, "dagster", "fanout", n)
    pkg = gen_project.package_name("fanout", n)
    home = tmp / f"dagster-home-{n}"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    config = tmp / f"dagster-celery-{n}.yaml"
    # The executor's config block, as `dagster-celery worker start -y` reads it.
    config.write_text(f"execution:\n  config:\n    broker: {broker}\n    backend: {broker}\n")
    env = bench_run.clean_env()
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env['PATH']}",  # the wrapper runs `celery` from PATH
        PYTHONPATH=str(project / "src"),
        DAGSTER_HOME=str(home),
        BENCH_EXECUTOR="celery",
        BENCH_CELERY_BROKER=broker,
    )
    logs = tmp / f"dagster-logs-{n}"
    logs.mkdir()
    argvs = [
        [
            str(bin_dir / "dagster-celery"), "worker", "start", "-y", str(config),
            "-A", "dagster_celery.app", "-q", "dagster", "-n", f"bench{i}", "--", "-c", "1",
        ]
        for i in range(WORKERS)
    ]  # fmt: skip
    materialize = [
        str(bin_dir / "dagster"), "asset", "materialize", "--select", "*",
        "-m", f"{pkg}.definitions",
    ]  # fmt: skip

    def once() -> float:
        run_checked(materialize, project, env)
        out = subprocess.run(
            [str(bin_dir / "python"), "-c", DAGSTER_RUN_TIME],
            cwd=project, env=env, capture_output=True, text=True, check=True, timeout=120,
        ).stdout  # fmt: skip
        found = json.loads(out.strip().splitlines()[-1])
        if found["status"] != "SUCCESS" or found["steps"] != n or found["celery_steps"] != n:
            raise RuntimeError(f"Dagster run: {found} (wanted SUCCESS and {n} celery steps)")
        return found["stamps"]["RUN_SUCCESS"] - found["stamps"]["RUN_START"]

    # Make the instance's SQLite databases once before the workers start: two processes
    # creating them at the same moment leave two alembic heads in the schedule storage.
    init = (
        "from dagster import DagsterInstance\nwith DagsterInstance.get() as i: i.get_runs(limit=1)"
    )
    subprocess.run([str(bin_dir / "python"), "-c", init], cwd=project, env=env, check=True)
    with workers(argvs, project, env, logs):
        return _repeat(once, repeat)


def _repeat(once: Callable[[], float], repeat: int) -> list[float]:
    once()  # untimed warm-up: bytecode caches, each pool process's first load of the code
    times = []
    for _ in range(repeat):
        times.append(once())
        print(f"    {times[-1]:.3f} s", flush=True)
    return times


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tools", default="bakehouse,dagster")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--dagster-broker", default="redis://127.0.0.1:6379/10")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--write-docs", action="store_true", help="rewrite its docs section")
    args = parser.parse_args()
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    bin_dir = dagster_venv() if "dagster" in tools else None
    results: dict[str, dict[int, list[float]]] = {tool: {} for tool in tools}
    loads = [loadavg()]
    with tempfile.TemporaryDirectory(prefix="celery-bench-") as tmp_name:
        tmp = Path(tmp_name)
        for n in SIZES:  # the tools alternate per size, so both see the same minutes
            for tool in tools:
                print(f"{tool}, fan-out N={n}, load {loadavg()}", flush=True)
                if tool == "bakehouse":
                    times = bakehouse_times(n, args.broker, args.repeat, tmp)
                else:
                    assert bin_dir is not None
                    times = dagster_times(n, args.dagster_broker, args.repeat, tmp, bin_dir)
                results[tool][n] = times
                loads.append(loadavg())
    report = summarize(results, loads, args.repeat)
    print(report["text"])
    if args.json:
        args.json.write_text(json.dumps({k: v for k, v in report.items() if k != "text"}, indent=1))
    if args.write_docs:
        write_docs(report["markdown"])


def summarize(
    results: dict[str, dict[int, list[float]]], loads: list[str], repeat: int
) -> dict[str, object]:
    """Medians, per-step figures and the ratio, as text and as the docs' markdown table."""
    small, large = SIZES
    per_step = {
        tool: (statistics.median(t[large]) - statistics.median(t[small])) / (large - small)
        for tool, t in results.items()
    }
    names = {"bakehouse": "bakehouse", "dagster": "Dagster 1.13 (`dagster-celery`)"}
    header = " | ".join(names[t] for t in results)
    rows = [f"| fan-out, run time (median of {repeat}) | {header} |"]
    rows.append("|---" * (len(results) + 1) + "|")
    for n in SIZES:
        cells = " | ".join(f"{statistics.median(t[n]):.2f} s" for t in results.values())
        rows.append(f"| N = {n} | {cells} |")
    cells = " | ".join(f"**{per_step[t] * 1000:.1f} ms**" for t in results)
    rows.append(f"| per step, (N={large} - N={small}) / {large - small} | {cells} |")
    ratio = ""
    if len(per_step) == 2 and per_step["bakehouse"] > 0:
        ratio = f"Dagster / bakehouse per step: {per_step['dagster'] / per_step['bakehouse']:.1f}x"
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    facts = (
        f"Measured {when}, bakehouse at commit {commit}, {WORKERS} workers of one step at a time "
        f"per tool; load average (1, 5, 15 min) {loads[0]} at the start, {loads[-1]} at the end "
        f"(per row: {'; '.join(loads[1:])}); the machine's 2 cores are shared with other work."
    )
    markdown = "\n".join([facts, "", *rows, "", ratio]).strip() + "\n"
    return {
        "when": when,
        "commit": commit,
        "loadavg": loads,
        "runs": {tool: {str(n): t for n, t in r.items()} for tool, r in results.items()},
        "per_step_ms": {tool: s * 1000 for tool, s in per_step.items()},
        "text": markdown,
        "markdown": markdown,
    }


DOC_HEAD = """\
## Celery executor: bakehouse vs Dagster's `dagster-celery` (bench/celery_bench.py)

`.venv/bin/python bench/celery_bench.py --write-docs`: the generated fan-out of N trivial assets
(one root, N-1 leaves reading it; `gen_project.py`, the same project for both tools) run with
each tool's `celery_executor` on 2 Celery workers of one step at a time, Redis on 127.0.0.1:6379
as broker and result backend for both (a database each), SQLite storage on this host: bakehouse
`bh worker start --concurrency 1` (two) and `bh launch --assets '*'`; Dagster
`dagster-celery worker start -y config.yaml -A dagster_celery.app -q dagster -- -c 1` (two) with a
shared `DAGSTER_HOME` and `dagster asset materialize --select '*'`. Run time from each run's own
RUN_START to RUN_SUCCESS events; per step = (N=100 - N=10) / 90 for both (with 2 workers in
parallel, one step's own overhead is about twice that). How it is measured:
[bench/README.md](../bench/README.md#celery-executor-bakehouse-vs-dagster-celery-celery_benchpy).
Aim (issue 16): under 30 ms per step of overhead.
"""

DOC_UNEQUAL = """\
What differs between the two (beyond the code): Dagster's run process polls its Celery results
once a second (`TICK_SECONDS = 1`), bakehouse's run worker follows the event log every 20 ms;
Dagster ships each step's events back through the result backend, bakehouse's workers write them
to storage and the result only says the task ended; bakehouse acknowledges tasks late
(`task_acks_late`, `task_reject_on_worker_lost`) and claims each step attempt in storage before
running it, dagster-celery acknowledges on receipt and claims nothing; both run steps in warm
Celery pool processes (no process per step), Dagster rebuilding the step's execution plan per
task; both on SQLite on one host (Dagster one file per run's events, bakehouse one database).
"""


def write_docs(markdown: str) -> None:
    """Rewrite the section between the celery_bench markers of docs/benchmarks.md."""
    text = DOCS.read_text()
    if BEGIN not in text or END not in text:
        sys.exit(f"celery_bench: {DOCS} has no {BEGIN} ... {END} section")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    section = f"{DOC_HEAD}\n{markdown}\n{DOC_UNEQUAL}"
    DOCS.write_text(f"{head}{BEGIN}\n{section}{END}{tail}")
    print(f"wrote {DOCS}")


if __name__ == "__main__":
    main()

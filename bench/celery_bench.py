"""Per-step overhead of the celery executor: a fan-out of N trivial assets (one root, N-1 leaves
taking it as input) run by `bh launch --executor celery` on 2 workers (`bh worker start
--concurrency 1`, each in the project's Python), Redis on 127.0.0.1:6379 as broker and result
backend, SQLite storage on this host.

Per-step time = (run time at N=100 - run time at N=10) / 90, the run time read from the run's
own RUN_START and RUN_SUCCESS events (so code-server start-up and loading are left out); with 2
workers taking steps in parallel, each step's own overhead is about twice that. The assets do
nothing, so all of it is the executor's: publishing, delivery, the claim, planning and storage
writes on the worker, and the run worker noticing the step's end.

Dagster's ``dagster-celery`` is not measured here yet (see docs/benchmarks.md).

    .venv/bin/python bench/celery_bench.py [--repeat 3] [--broker redis://127.0.0.1:6379/9]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BH = [sys.executable, "-m", "bakehouse"]


def write_project(root: Path, n: int, broker: str) -> None:
    """A project of a fan-out of `n` assets whose definitions use the celery executor."""
    package = root / "src" / "fan"
    (package / "defs").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "fan"\nversion = "0"\n\n[tool.bakehouse]\ndirectory_type = "project"'
        '\n\n[tool.bakehouse.project]\nroot_module = "fan"\ncode_location_name = '
        f'"fan_{os.getpid()}"\n'
    )
    (package / "__init__.py").write_text("")
    (package / "defs" / "__init__.py").write_text("")
    (package / "definitions.py").write_text(
        textwrap.dedent(
            f"""\
            from pathlib import Path

            import bakehouse as dg
            from bakehouse_celery import celery_executor


            @dg.definitions
            def defs():
                loaded = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
                executor = celery_executor.configured(
                    {{"broker": "{broker}", "backend": "{broker}"}}
                )
                return dg.Definitions.merge(loaded, dg.Definitions(executor=executor))
            """
        )
    )
    lines = ["import bakehouse as dg\n", "@dg.asset\ndef f_0000() -> int:\n    return 1\n"]
    for i in range(1, n):
        lines.append(f"@dg.asset\ndef f_{i:04d}(f_0000: int) -> int:\n    return f_0000 + {i}\n")
    (package / "defs" / "assets.py").write_text("\n\n".join(lines))


def start_workers(root: Path, env: dict[str, str], count: int) -> list[subprocess.Popen[bytes]]:
    """`count` workers of one step at a time each; returns once each has heartbeated."""
    workers = []
    for i in range(count):
        log = (root / f"worker-{i}.log").open("wb")
        workers.append(
            subprocess.Popen(
                [*BH, "worker", "start", "--concurrency", "1"],
                cwd=root,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if all("ready." in (root / f"worker-{i}.log").read_text() for i in range(count)):
            return workers
        time.sleep(0.2)
    raise SystemExit(f"workers did not start; see {root}/worker-*.log")


def run_seconds(root: Path, env: dict[str, str]) -> float:
    """Launch every asset once; the run's time from its RUN_START to its RUN_SUCCESS."""
    subprocess.run(
        [*BH, "launch", "--assets", "*", "--quiet"],
        cwd=root, env=env, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    from bakehouse.storage import Instance
    from bakehouse.storage.records import EventType

    with Instance.for_home(root / ".bakehouse") as instance:
        run = instance.get_runs(limit=1)[0]
        events = instance.get_events(run.run_id)
    start = next(e.timestamp for e in events if e.event_type == EventType.RUN_START)
    end = next(e.timestamp for e in events if e.event_type == EventType.RUN_SUCCESS)
    return end - start


def measure(n: int, broker: str, repeat: int) -> list[float]:
    """Run times of the fan-out of `n` (after one untimed warm-up run)."""
    with tempfile.TemporaryDirectory(prefix="celery-bench-") as tmp:
        root = Path(tmp)
        write_project(root, n, broker)
        env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{root / 'src'}"}
        env.pop("BAKEHOUSE_STORAGE_URL", None)
        env.pop("BAKEHOUSE_HOME", None)
        workers = start_workers(root, env, 2)
        try:
            run_seconds(root, env)
            return [run_seconds(root, env) for _ in range(repeat)]
        finally:
            for worker in workers:
                os.killpg(worker.pid, signal.SIGTERM)
            for worker in workers:
                worker.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/9")
    args = parser.parse_args()
    small = measure(10, args.broker, args.repeat)
    large = measure(100, args.broker, args.repeat)
    per_step = (statistics.median(large) - statistics.median(small)) / 90
    print(f"fan-out N=10:  run {statistics.median(small):.3f} s (median of {args.repeat})")
    print(f"fan-out N=100: run {statistics.median(large):.3f} s (median of {args.repeat})")
    ms = per_step * 1000
    print(f"per step, 2 workers: {ms:.1f} ms of run time (~{2 * ms:.1f} ms of one worker's time)")


if __name__ == "__main__":
    main()

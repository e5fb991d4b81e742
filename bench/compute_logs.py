"""The cost of capturing each step's stdout and stderr: a 1,000-step run with and without it.

Each sample executes one run of N chained assets (each prints a line and writes one to stderr)
through `execute_run` on a real SQLite instance, as a run worker does, in a fresh interpreter
(capture swaps descriptors 1 and 2); samples with and without capture alternate, so load from
other processes falls on both alike. Run with the dev venv:

    .venv/bin/python bench/compute_logs.py [--samples 5] [--steps 1000] [--executor in_process]

Prints the median wall time of the run's execution (planning included, interpreter start not)
per variant and the difference per step in milliseconds, then the median CPU time of the whole
sample (every process; less disturbed than wall time on a busy machine).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

# Under the repository, as bench/run.py works: a busy /tmp can make each file creation cost
# far more than on the disk a deployment keeps its storage on, and that would be measured.
WORK = Path(__file__).resolve().parent / ".work" / "compute_logs"

PROBE = """
import sys, time, tempfile
from pathlib import Path
import bakehouse as dg
from bakehouse.execution.events import EventWriter
from bakehouse.execution.run import execute_run
from bakehouse.execution.step_executor import executor_for
from bakehouse.authoring.executors import ExecutorDefinition
from bakehouse.storage import Instance
from bakehouse.storage.records import RunRecord

steps, capture, executor_name = int(sys.argv[1]), sys.argv[2] == "1", sys.argv[3]
work = Path(sys.argv[4])


def make(i):
    @dg.asset(name=f"step_{i}", deps=[f"step_{i - 1}"] if i else [])
    def one() -> None:
        print(f"step {i} says hello")
        print(f"step {i} warns", file=sys.stderr)

    return one


assets = [make(i) for i in range(steps)]
defs = dg.Definitions(assets=assets)
home = Path(tempfile.mkdtemp(prefix="home-", dir=work))
with Instance.for_home(home) as instance:
    instance.create_run(RunRecord(run_id="bench"))
    executor = executor_for(ExecutorDefinition(executor_name))
    started = time.perf_counter()
    outcome = execute_run(
        defs=defs,
        asset_keys=[a.key for a in assets],
        run_id="bench",
        writer=EventWriter(instance, "bench"),
        instance=instance,
        executor=executor,
        capture_logs=capture,
    )
    elapsed = time.perf_counter() - started
    assert outcome.success, outcome
    logs = home / "storage" / "bench" / "compute_logs"
    assert len(list(logs.glob("*.out"))) == (steps if capture else 0)
print(elapsed, file=sys.__stdout__)
"""


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def sample(steps: int, capture: bool, executor: str) -> tuple[float, float]:
    """Seconds one run took, in a fresh interpreter, and the CPU seconds of that interpreter
    and its processes (start-up included: the same with and without capture)."""
    cpu = _children_cpu()
    with tempfile.TemporaryFile("w+") as quiet:
        done = subprocess.run(
            [sys.executable, "-c", PROBE, str(steps), "1" if capture else "0", executor, str(WORK)],
            stdout=subprocess.PIPE,
            stderr=quiet,
            text=True,
            check=True,
        )
    # Without capture the steps' lines come first; the time is the last line.
    return float(done.stdout.strip().splitlines()[-1]), _children_cpu() - cpu


def main() -> None:
    """Alternate samples with and without capture, then print medians and the per-step cost."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--executor", default="in_process", choices=["in_process", "multiprocess"])
    args = parser.parse_args()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    times: dict[bool, list[float]] = {False: [], True: []}
    cpus: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(args.samples):
        for capture in (False, True):
            wall, cpu = sample(args.steps, capture, args.executor)
            times[capture].append(wall)
            cpus[capture].append(cpu)
    off, on = statistics.median(times[False]), statistics.median(times[True])
    cpu_off, cpu_on = statistics.median(cpus[False]), statistics.median(cpus[True])
    print(f"{args.steps} steps, {args.executor}, median of {args.samples}:")
    print(f"  without capture: {off:.3f} s  ({min(times[False]):.3f}-{max(times[False]):.3f})")
    print(f"  with capture:    {on:.3f} s  ({min(times[True]):.3f}-{max(times[True]):.3f})")
    per_step = (on - off) / args.steps * 1000
    print(f"  capture costs {per_step:.3f} ms per step of wall time ({(on / off - 1) * 100:+.1f}%)")
    print(f"  CPU seconds, median: {cpu_off:.3f} without, {cpu_on:.3f} with capture: ", end="")
    print(f"{(cpu_on - cpu_off) / args.steps * 1000:.3f} ms per step")
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()

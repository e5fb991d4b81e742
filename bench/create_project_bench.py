"""Time ``bh create project`` (files and a working ``.venv``) with uv and with pip.

Each run creates a project in a fresh temporary folder with this repository's dev venv's
``bh`` (``.venv/bin/bh``, which installs this checkout editable into the new venv, plus pytest),
called as a user would without activating anything (``PATH`` is the system's). Cases:

- ``uv``: ``--installer uv`` with uv's cache as it is (warm after the first run);
- ``uv, empty cache``: the same with ``UV_CACHE_DIR`` set to a new empty folder: every wheel is
  downloaded (from PyPI here);
- ``pip``: ``--installer pip`` (``python -m venv``, then pip) with pip's cache as it is;
- ``pip, no cache``: the same with ``PIP_NO_CACHE_DIR=1``.

Timed: the command's wall time, and the time to its first line of output (the user sees it
working). Checked, untimed: the command exits 0 and the new venv imports bakehouse and pytest
and runs the scaffolded test. Standard library only. Usage:

    .venv/bin/python bench/create_project_bench.py                # all cases, writes JSON
    .venv/bin/python bench/create_project_bench.py --write-docs   # also docs/benchmarks.md
    .venv/bin/python bench/create_project_bench.py --reps 1 --only uv
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BH = REPO / ".venv" / "bin" / "bh"
RESULTS = HERE / ".work" / "results"
DOC = REPO / "docs" / "benchmarks.md"
# docs/benchmarks.md is written by bench/run.py, which keeps sections between such markers.
KEPT_START = "<!-- create_project_bench: begin -->"
KEPT_END = "<!-- create_project_bench: end -->"
TARGET_SECONDS = 20.0  # with uv, on this machine (issue 14)
DASH = "\u2013"


@dataclass(frozen=True)
class Case:
    """One way to run the command, and how many times by default."""

    name: str
    installer: str
    env: dict[str, str]
    reps: int
    fresh_cache: str | None = None  # an environment variable to point at a new empty folder


CASES = (
    Case("uv", "uv", {}, 5),
    Case("uv, empty cache", "uv", {}, 3, fresh_cache="UV_CACHE_DIR"),
    Case("pip", "pip", {}, 3),
    Case("pip, no cache", "pip", {"PIP_NO_CACHE_DIR": "1"}, 1),
)


@dataclass
class Timing:
    """The measured runs of one case."""

    case: str
    walls: list[float] = field(default_factory=list)
    first_lines: list[float] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)


def _env(case: Case, scratch: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BAKEHOUSE_", "VIRTUAL_ENV", "UV_"))
    }
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"  # as a user who did not activate a venv
    env.update(case.env)
    if case.fresh_cache:
        cache = scratch / "cache"
        cache.mkdir()
        env[case.fresh_cache] = str(cache)
    return env


def run_once(case: Case) -> tuple[float, float, int]:
    """Create a project once; its wall time, time to the first output line, and line count."""
    with tempfile.TemporaryDirectory(prefix="bh-create-bench-") as scratch_name:
        scratch = Path(scratch_name)
        env = _env(case, scratch)
        started = time.perf_counter()
        first: float | None = None
        lines: list[str] = []
        process = subprocess.Popen(
            [str(BH), "create", "project", "demo", "--installer", case.installer],
            cwd=scratch,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdout is not None
        for line in process.stdout:
            if first is None:
                first = time.perf_counter() - started
            lines.append(line)
        code = process.wait()
        wall = time.perf_counter() - started
        if code != 0:
            raise SystemExit(f"{case.name}: exit {code}\n{''.join(lines)[-3000:]}")
        _check(scratch / "demo", env)
        return wall, first if first is not None else wall, len(lines)


def _check(project: Path, env: dict[str, str]) -> None:
    python = project / ".venv" / "bin" / "python"
    done = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or "1 passed" not in done.stdout:
        raise SystemExit(f"the new project's test did not pass:\n{done.stdout}{done.stderr}")


def measure(cases: list[Case], reps: int | None) -> list[Timing]:
    """Run each case `reps` times (else its default), one untimed warm-up first for the
    cached cases (so "warm" means warm)."""
    timings = []
    for case in cases:
        if case.fresh_cache is None and not case.env:
            print(f"{case.name}: warm-up", flush=True)
            run_once(case)
        timing = Timing(case.name)
        for index in range(reps or case.reps):
            wall, first, count = run_once(case)
            timing.walls.append(wall)
            timing.first_lines.append(first)
            timing.lines.append(count)
            print(
                f"{case.name} #{index + 1}: {wall:.2f} s (first line after {first:.2f} s, "
                f"{count} lines)",
                flush=True,
            )
        timings.append(timing)
    return timings


def _spread(values: list[float]) -> str:
    median = statistics.median(values)
    return f"{median:.1f} ({min(values):.1f}{DASH}{max(values):.1f}, n={len(values)})"


def _uv_version() -> str:
    uv = REPO / ".venv" / "bin" / "uv"
    if not uv.exists():
        return "—"
    done = subprocess.run([str(uv), "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip() or "—"


def _pip_version() -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--version"], capture_output=True, text=True, check=False
    )
    return " ".join(done.stdout.split()[:2]) or "—"


def section(timings: list[Timing], measured: str, commit: str) -> str:
    """The docs/benchmarks.md section for these timings."""
    rows = [
        f"| {t.case} | {_spread(t.walls)} | {_spread(t.first_lines)} | "
        f"{statistics.median(t.lines):.0f} |"
        for t in timings
    ]
    uv = next((t for t in timings if t.case == "uv"), None)
    verdict = ""
    if uv is not None:
        median = statistics.median(uv.walls)
        met = "met" if median < TARGET_SECONDS else "NOT met"
        verdict = f"Target: under {TARGET_SECONDS:.0f} s with uv: {median:.1f} s, {met}.\n\n"
    return "\n".join(
        [
            KEPT_START,
            "## bh create project",
            "",
            "bakehouse only, by `bench/create_project_bench.py` (`--write-docs` rewrites this "
            "section; `bench/run.py --write-docs` keeps it). Measured "
            f"{measured} UTC at commit {commit}, {_uv_version()}, {_pip_version()}, Python "
            f"{platform.python_version()}, on the machine above.",
            "",
            "`.venv/bin/bh create project demo --installer uv|pip` in an empty folder, with "
            "the system's `PATH`: the project's files and its `.venv` holding this checkout "
            f"(editable) and pytest. Seconds of wall time, median (min{DASH}max, n); the cached "
            "cases after one untimed warm-up. *First line*: when the command printed its "
            "first line. Each run is checked: exit 0, and the new venv runs the project's "
            "test (`.venv/bin/python -m pytest`).",
            "",
            "| case | wall (s) | first line (s) | lines printed |",
            "|---|---|---|---|",
            *rows,
            "",
            verdict + "*empty cache*: `UV_CACHE_DIR` is a new empty folder, so uv downloads every "
            "wheel; *no cache*: `PIP_NO_CACHE_DIR=1`.",
            KEPT_END,
            "",
        ]
    )


def write_docs(text: str) -> None:
    """Put `text` in docs/benchmarks.md, in place of its previous version (else at the end)."""
    doc = DOC.read_text() if DOC.exists() else ""
    start, end = doc.find(KEPT_START), doc.find(KEPT_END)
    if start != -1 and end != -1:
        doc = doc[:start] + text + doc[end + len(KEPT_END) :].lstrip("\n")
    else:
        doc = doc.rstrip("\n") + "\n\n" + text
    DOC.write_text(doc)


def main(argv: list[str] | None = None) -> None:
    """Measure, save the JSON, and (with --write-docs) update docs/benchmarks.md."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, help="repetitions of every case")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="CASE",
        help="only these cases (repeatable): " + ", ".join(repr(c.name) for c in CASES),
    )
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args(argv)
    if not BH.exists():
        raise SystemExit(f"{BH} is missing: run scripts/setup first")
    cases = [c for c in CASES if not args.only or c.name in args.only]
    measured = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M")
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    timings = measure(cases, args.reps)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"create_project-{measured.replace(' ', 'T').replace(':', '')}.json"
    out.write_text(
        json.dumps(
            {"measured": measured, "commit": commit, "timings": [t.__dict__ for t in timings]},
            indent=2,
        )
    )
    print(f"wrote {out}")
    text = section(timings, measured, commit)
    print(text)
    if args.write_docs:
        write_docs(text)
        print(f"wrote {DOC}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Measure bakehouse and Dagster on the same workloads, in one command.

    python3 bench/run.py                  # everything: venvs, projects, all workloads
    python3 bench/run.py --quick          # smoke run: n=1, no warm-up
    python3 bench/run.py --only check_defs --only cli_start
    python3 bench/run.py --write-docs     # also rewrite docs/benchmarks.md
    python3 bench/run.py --list           # the workloads

Steps: (1) create or refresh two venvs of its own, bench/.venv-dagster
(`pip install 'dagster==1.13.*' dagster-dg-cli`) and bench/.venv-bakehouse
(`pip install -e <repo>`); (2) generate the same synthetic projects for both
tools under bench/.work/projects (bench/gen_project.py); (3) run the workloads,
every command as a subprocess with a timeout, in its own process group, which is
killed whatever happens; (4) print a table, write raw JSON to
bench/.work/results/, and with --write-docs rewrite docs/benchmarks.md.

Adding a workload: write a function `def wl_x(ctx: Ctx) -> None` that calls
`ctx.compare(...)` (and `ctx.derived(...)`) and decorate it with
`@workload("x", help=...)`. Standard library only; Python 3.10+.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import functools
import hashlib
import json
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WORK = BENCH / ".work"
PROJECTS = WORK / "projects"
RESULTS = WORK / "results"
HOMES = WORK / "homes"
DOC = REPO / "docs" / "benchmarks.md"

sys.path.insert(0, str(BENCH))
import gen_project  # noqa: E402

TOOLS = ("bakehouse", "dagster")
TOOL_TITLE = {"bakehouse": "bakehouse", "dagster": "Dagster"}
HOME_VAR = {"bakehouse": "BAKEHOUSE_HOME", "dagster": "DAGSTER_HOME"}

# Dagster's figures from /work/shared/bench/dagster-1.13-baseline.md, for the targets.
BASELINE_CHECK_DEFS_10 = 2.5
BASELINE_PER_STEP = 0.049
BASELINE_MULTIPROCESS_PER_STEP = 2.09  # chain, N 10 -> 100
TARGET_HELP = 0.3
TARGET_MULTIPROCESS_STEP = 0.020  # issue 3
# Issue 4: `bh dev` with 1 location of 10 assets, against what `dg dev` needed there.
TARGET_DEV_READY = 0.6  # seconds from start to the location LOADED (dg dev: 6.2 s)
TARGET_DEV_RSS = 200  # MB over the whole process tree (dg dev: 876 MB over 10 processes)

# Typography for the table and the doc (escaped: ruff's RUF001 flags the literal characters).
DASH = "\u2013"  # en dash, for ranges
TIMES = "\u00d7"  # multiplication sign, for ratios
MINUS = "\u2212"

NOISY_CPUS = 0.3  # other processes above this many CPUs make a row "disturbed"
DISTURBED = "\u2020"  # dagger, marks such rows
ROW_IDLE_WAIT = 180  # seconds a row waits at most for other processes to go quiet

DAGSTER_YAML = "telemetry:\n  enabled: false\n"


# --------------------------------------------------------------------------- venvs


@dataclass
class Venv:
    tool: str
    path: Path
    pip_args: list[str]
    inputs: list[Path] = field(default_factory=list)  # files whose change means reinstall

    def bin(self, name: str) -> Path:
        return self.path / "bin" / name

    @property
    def python(self) -> Path:
        return self.bin("python")

    @property
    def stamp_file(self) -> Path:
        return self.path / ".bench-stamp.json"

    def wanted_stamp(self, base_python: str) -> dict[str, object]:
        return {
            "pip_args": self.pip_args,
            "base_python": base_python,
            "base_version": _python_version(base_python),
            "inputs": {str(p): _sha256(p) for p in self.inputs},
        }


VENVS = {
    "dagster": Venv(
        "dagster",
        BENCH / ".venv-dagster",
        # dagster-webserver: `dg dev` needs it (workload locations_start).
        ["dagster==1.13.*", "dagster-dg-cli", "dagster-webserver"],
    ),
    "bakehouse": Venv(
        "bakehouse", BENCH / ".venv-bakehouse", ["-e", str(REPO)], [REPO / "pyproject.toml"]
    ),
}


def use_bakehouse_rev(rev: str) -> str:
    """Point the bakehouse venv at a clean export of commit `rev` instead of the working tree
    (which other people may be editing mid-run). Returns the full commit id."""
    sha = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--verify", f"{rev}^{{commit}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    src = WORK / "bakehouse-src"
    marker = src / ".bench-rev"
    if not (marker.exists() and marker.read_text() == sha):
        shutil.rmtree(src, ignore_errors=True)
        src.mkdir(parents=True)
        archive = WORK / "bakehouse-src.tar"
        subprocess.run(
            ["git", "-C", str(REPO), "archive", "--format=tar", "-o", str(archive), sha],
            check=True,
        )
        with tarfile.open(archive) as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(src, filter="data")
            else:
                tar.extractall(src)  # our own repository
        archive.unlink()
        marker.write_text(sha)
    VENVS["bakehouse"] = Venv(
        "bakehouse", VENVS["bakehouse"].path, ["-e", str(src)], [src / "pyproject.toml", marker]
    )
    return sha


def _sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "missing"


def _python_version(python: str) -> str:
    out = subprocess.run(
        [python, "-c", "import sys; print(sys.version.split()[0])"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return out.stdout.strip()


def ensure_venv(venv: Venv, base_python: str, force: bool) -> str | None:
    """Create or refresh one venv. Returns an error message, or None when it is ready."""
    wanted = venv.wanted_stamp(base_python)
    if not force and venv.stamp_file.exists() and venv.python.exists():
        try:
            if json.loads(venv.stamp_file.read_text()) == wanted:
                log(f"venv {venv.path.name}: up to date")
                return None
        except (OSError, ValueError):
            pass
    pip_args = " ".join(venv.pip_args)
    log(f"venv {venv.path.name}: creating with {base_python} and pip install {pip_args}")
    if venv.path.exists():
        shutil.rmtree(venv.path)
    started = time.perf_counter()
    steps = [
        [base_python, "-m", "venv", str(venv.path)],
        [
            str(venv.python),
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "-q",
            *venv.pip_args,
        ],
    ]
    for argv in steps:
        res = run_process(argv, cwd=BENCH, env=clean_env(), timeout=1800)
        if res.rc != 0:
            msg = f"{' '.join(argv)} failed (rc={res.rc}): {tail(res.stderr or res.stdout)}"
            log(msg)
            return msg
    venv.stamp_file.write_text(json.dumps(wanted, indent=1))
    log(f"venv {venv.path.name}: ready in {time.perf_counter() - started:.1f} s")
    return None


def dagster_venv_with(imports: str, packages: list[str], who: str) -> Path:
    """bench/.venv-dagster (made as this script makes it) with `packages` added unless
    ``import <imports>`` already works there; returns its interpreter. Dagster stays at the
    release it has, which makes pip pick the integrations' matching releases."""
    venv = VENVS["dagster"]
    # The base interpreter run.py and the other benches use, so the venv is not made again.
    error = ensure_venv(venv, shutil.which("python3") or sys.executable, force=False)
    if error:
        sys.exit(f"{who}: cannot make {venv.path}: {error}")
    python = str(venv.python)
    if subprocess.run([python, "-c", f"import {imports}"], capture_output=True).returncode:
        version = subprocess.run(
            [python, "-c", "import dagster; print(dagster.__version__)"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        pins = [*packages, f"dagster=={version}"]
        subprocess.run([python, "-m", "pip", "install", "-q", *pins], check=True)
    return venv.python


# --------------------------------------------------------------------------- processes


@dataclass
class Proc:
    seconds: float
    rc: int | None  # None: timed out
    stdout: str
    stderr: str
    leftovers: bool = False  # processes of its group were still alive after it exited
    error: str | None = None  # why a run that exited (or was stopped) cleanly still failed
    note: str = ""  # something worth reporting that is not a failure (e.g. a slow stop)
    # Figures a server run measures besides its time (memory, leftovers, a session's timings),
    # by name; `Ctx.compare(metrics=...)` turns the ones it is asked for into rows.
    metrics: dict[str, float] = field(default_factory=dict)
    # Why a server's session could not measure all it should (its time still counts).
    session_error: str | None = None


def _group_alive(pgid: int) -> bool:
    """Whether a live process is in group `pgid`. A signal reaches zombies too, but they are
    dead: an orphaned one waits for init to reap it (seen after Dagster's step processes),
    and counting it would log leftovers that are not there and wait out the kill's grace."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return any(st[1] == pgid for st in _proc_table().values())


def _kill_group(proc: subprocess.Popen[str] | subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group led by `proc`, then SIGKILL what is left."""
    pgid = proc.pid
    for sig, grace in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 2.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            proc.poll()  # reap the leader, or its zombie keeps the group "alive"
            if not _group_alive(pgid):
                return
            time.sleep(0.05)


def run_process(argv: list[str], *, cwd: Path, env: dict[str, str], timeout: float) -> Proc:
    """Run one command in its own session; time it; never leave a process behind."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    rc: int | None
    try:
        out, err = proc.communicate(timeout=timeout)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        try:
            out, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:  # a process outside the group holds the pipes
            proc.kill()
            out, err = "", "(output lost: the pipes stayed open after the kill)"
        rc = None
    except BaseException:
        _kill_group(proc)
        proc.wait()
        raise
    seconds = time.perf_counter() - started
    leftovers = _group_alive(proc.pid)
    if leftovers:
        _kill_group(proc)
    return Proc(seconds, rc, out, err, leftovers)


# A server's readiness probe: called with the port every POLL_SECONDS; returns None while
# not ready, "" once ready, or an error text when it can never become ready.
Probe = Callable[[int], "str | None"]
# Measures a ready server (port) untimed by the harness, adding its own figures to the run's
# metrics; returns an error text or None.
Session = Callable[[int, dict[str, float]], "str | None"]
POLL_SECONDS = 0.05
STOP_GRACE = 20.0  # seconds a server gets to stop on SIGINT before its processes are killed
SLOW_STOP = 5.0  # a stop slower than this is noted in the row


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _proc_stat(pid: int) -> tuple[int, int, int, int] | None:
    """(parent pid, process group, session id, start time) of a live process, from
    /proc/<pid>/stat."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()  # after "pid (comm)": state ppid pgrp session ...
    if fields[0] == "Z":
        return None  # a zombie is dead; only its parent's wait() is missing
    return int(fields[1]), int(fields[2]), int(fields[3]), int(fields[19])


def _proc_table() -> dict[int, tuple[int, int, int, int]]:
    """`_proc_stat` of every live process."""
    table = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and (stat := _proc_stat(int(entry.name))) is not None:
            table[int(entry.name)] = stat
    return table


def _process_tree(leader: int) -> dict[int, int]:
    """pid -> start time of `leader`, its descendants, and every process of its session
    (a child that left the process group but not the session is still ours)."""
    table = _proc_table()
    tree = {pid: st[3] for pid, st in table.items() if pid == leader or st[2] == leader}
    grew = True
    while grew:
        grew = False
        for pid, (ppid, _pgid, _sid, start) in table.items():
            if ppid in tree and pid not in tree:
                tree[pid] = start
                grew = True
    return tree


def _alive(tree: dict[int, int]) -> list[int]:
    """The processes of `tree` still running (the same processes: start times must match)."""
    return [pid for pid, start in tree.items() if (st := _proc_stat(pid)) and st[3] == start]


def _survivors(proc: subprocess.Popen[bytes], tree: dict[int, int]) -> set[int]:
    """The processes of `tree`, and of the leader's process group or session, still alive."""
    members = {pid for pid, st in _proc_table().items() if proc.pid in (pid, st[1], st[2])}
    return set(_alive(tree)) | members


def tree_memory(leader: int) -> tuple[float, int]:
    """(RSS in MB summed over `leader`'s process tree, as `_process_tree` finds it; the number
    of processes in it), from /proc/<pid>/status. Shared pages count once per process, as
    `ps` and Dagster's baseline count them."""
    total_kb = 0
    count = 0
    for pid in _process_tree(leader):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue  # exited meanwhile
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        count += 1
        total_kb += int(found.group(1)) if found else 0
    return total_kb / 1024, count


def stop_server(proc: subprocess.Popen[bytes]) -> tuple[int, float]:
    """Stop a server as Ctrl-C in its terminal does (SIGINT to its process group), wait up to
    STOP_GRACE seconds for every process it started to exit, then kill what is left, in the
    group and outside it. Returns (how many of its processes were still alive STOP_GRACE
    seconds after the SIGINT and had to be killed, seconds the stop took)."""
    started = time.perf_counter()
    tree = _process_tree(proc.pid)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGINT)
    deadline = time.monotonic() + STOP_GRACE
    while time.monotonic() < deadline:
        proc.poll()
        if proc.returncode is not None and not _alive(tree) and not _group_alive(proc.pid):
            return 0, time.perf_counter() - started
        time.sleep(0.05)
    proc.poll()
    left = len(_survivors(proc, tree))
    _kill_group(proc)
    for pid in _alive(tree):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait()
    return left, time.perf_counter() - started


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_server(
    argv: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    timeout: float,
    probe: Probe,
    verify: Probe,
    session: Session | None = None,
) -> Proc:
    """Start a server (`{port}` in argv becomes a free port) in its own session, time it from
    start until `probe` says ready, check it with `verify` (untimed), then stop it and every
    process it started. The output goes to temporary files (a server never exits by itself,
    so pipes nobody reads could fill up and block it).

    Metrics of the run: `rss_mb` and `processes` of its whole process tree the moment it is
    ready, `left_behind` (its processes still alive STOP_GRACE s after Ctrl-C), and whatever
    `session(port, metrics)` adds: it runs after ready and before `verify` (so that it sees a
    server nothing else has queried yet) and returns an error text or None, which fails only
    the figures it did not measure (`Proc.session_error`), not the run."""
    port = free_port()
    argv = [a.replace("{port}", str(port)) for a in argv]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
            # Ctrl-C must work in it as in a terminal, even if this bench runs with SIGINT
            # ignored (as `python3 bench/run.py &` does): ignored signals are inherited.
            preexec_fn=_default_sigint,
        )
        seconds = 0.0
        error: str | None = None
        rc: int | None = 0
        metrics: dict[str, float] = {}
        session_error: str | None = None
        try:
            while True:
                state = probe(port)
                elapsed = time.perf_counter() - started
                if state is not None:
                    seconds = elapsed
                    if state:
                        error = state
                    else:
                        metrics["rss_mb"], metrics["processes"] = tree_memory(proc.pid)
                        session_error = session(port, metrics) if session else None
                        error = verify(port)
                    break
                if proc.poll() is not None:
                    rc = proc.returncode
                    error = f"exited with {rc} before it was ready"
                    break
                if elapsed > timeout:
                    rc = None
                    error = f"not ready after {timeout:.0f} s"
                    break
                time.sleep(POLL_SECONDS)
        finally:
            left, stop_seconds = stop_server(proc)
            metrics["left_behind"] = left
            killed = left > 0
        # Stable texts, so that the row can count the runs each applies to.
        note = ""
        if killed:
            note = f"did not stop within {STOP_GRACE:.0f} s of Ctrl-C (SIGINT): killed"
        elif stop_seconds > SLOW_STOP:
            note = f"took over {SLOW_STOP:.0f} s to stop on Ctrl-C (SIGINT)"
        if note:
            log(f"  stopping took {stop_seconds:.1f} s")
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    if error and rc == 0:
        rc = 1  # a failure the server's exit code does not show
    if error:
        error = f"{error}\n{tail(ANSI.sub('', stderr or stdout), 3000)}"
    return Proc(
        seconds,
        rc,
        stdout,
        stderr,
        leftovers=killed,
        error=error,
        note=note,
        metrics=metrics,
        session_error=session_error,
    )


class Runner(Protocol):
    """Runs one tool's command once (instead of `run_process`)."""

    def __call__(
        self, tool: str, argv: list[str], *, cwd: Path, env: dict[str, str], timeout: float
    ) -> Proc: ...


def server_runner(
    probes: dict[str, tuple[Probe, Probe]], sessions: dict[str, Session] | None = None
) -> Runner:
    """A runner that starts each tool's server with `run_server`, using that tool's
    (readiness probe, verification) and, if given, its session."""

    def run(tool: str, argv: list[str], *, cwd: Path, env: dict[str, str], timeout: float) -> Proc:
        probe, verify = probes[tool]
        return run_server(
            argv,
            cwd=cwd,
            env=env,
            timeout=timeout,
            probe=probe,
            verify=verify,
            session=(sessions or {}).get(tool),
        )

    return run


def http_json(port: int, path: str, body: object = None, timeout: float = 5) -> Any:
    """GET (or POST `body` as JSON to) http://127.0.0.1:port/path; the decoded JSON answer,
    or None while nothing answers there (not listening yet, or not answering in time)."""
    import http.client
    import urllib.request

    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=data,
        headers={"Content-Type": "application/json"} if data else {},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return json.loads(answer.read())
    except (OSError, http.client.HTTPException, ValueError):  # URLError is an OSError
        return None


ANSI = re.compile(r"\x1b\[[0-9;]*m")
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)\b")


def summary_line(output: str) -> str:
    """The line that says what went wrong: the last exception line, else the last line."""
    lines = [ln.strip() for ln in ANSI.sub("", output).splitlines() if ln.strip()]
    if not lines:
        return "(no output)"
    return next((ln for ln in reversed(lines) if EXCEPTION_LINE.match(ln)), lines[-1])


def tail(text: str, limit: int = 600) -> str:
    text = text.strip()
    return text if len(text) <= limit else "..." + text[-limit:]


def _is_venv_bin(entry: str) -> bool:
    return bool(entry) and (Path(entry).parent / "pyvenv.cfg").exists()


def clean_env() -> dict[str, str]:
    """The caller's environment without anything that would pick another Python setup."""
    drop = ("PYTHON", "VIRTUAL_ENV", "DAGSTER_", "BAKEHOUSE_", "CONDA", "BENCH_", "DG_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    path = [
        p for p in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep) if not _is_venv_bin(p)
    ]
    env["PATH"] = os.pathsep.join(path)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _busy_cpu_seconds() -> float:
    """CPU seconds spent busy by the whole machine since boot (all CPUs; /proc/stat)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    """CPU seconds of this process and of every child (and their children) it has reaped."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


class ForeignLoad:
    """How many CPUs other processes kept busy while the bench ran: the machine's busy CPU
    time minus the bench's own (this process and its reaped children), per second of wall."""

    def __init__(self) -> None:
        self.wall = time.monotonic()
        self.busy = _busy_cpu_seconds()
        self.own = _own_cpu_seconds()

    def cpus(self) -> float:
        wall = time.monotonic() - self.wall
        if wall <= 0:
            return 0.0
        other = (_busy_cpu_seconds() - self.busy) - (_own_cpu_seconds() - self.own)
        return max(0.0, other / wall)


def wait_for_idle(max_wait: float, threshold: float = NOISY_CPUS, window: float = 3.0) -> float:
    """Wait until other processes use fewer than `threshold` CPUs in two windows of `window`
    seconds in a row, or `max_wait` has passed. Returns the CPUs used in the last window."""
    deadline = time.monotonic() + max_wait
    quiet = 0
    said = False
    while True:
        probe = ForeignLoad()
        time.sleep(window)
        busy = probe.cpus()
        quiet = quiet + 1 if busy < threshold else 0
        if quiet >= 2 or time.monotonic() >= deadline:
            return busy
        if not quiet and not said:
            log(f"other processes keep {busy:.2f} CPUs busy; waiting for an idle machine")
            said = True


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- results


@dataclass
class Cell:
    """One tool's result for one row."""

    times: list[float] = field(default_factory=list)  # successful runs, seconds
    failures: list[str] = field(default_factory=list)
    derived: bool = False  # computed from other rows: no min/max
    value: float | None = None  # for derived cells
    skipped: str = ""

    @property
    def n(self) -> int:
        return len(self.times)

    @property
    def median(self) -> float | None:
        if self.derived:
            return self.value
        return statistics.median(self.times) if self.times else None

    def median_or_none(self) -> float | None:
        return self.median

    def min_or_none(self) -> float | None:
        return min(self.times) if self.times and not self.derived else None

    def to_json(self) -> dict[str, object]:
        return {
            "median": self.median,
            "min": min(self.times) if self.times else None,
            "max": max(self.times) if self.times else None,
            "n": self.n,
            "times": self.times,
            "failures": self.failures,
            "derived": self.derived,
            "skipped": self.skipped,
        }


@dataclass
class Row:
    workload: str
    label: str
    cells: dict[str, Cell]
    unit: str = "s"  # "s" or "ms" (display only; values are seconds), "MB" or "count"
    note: str = ""
    commands: dict[str, str] = field(default_factory=dict)
    loadavg: float = 0.0
    foreign_cpus: float = 0.0  # CPUs other processes kept busy while the row ran

    def ratio(self) -> float | None:
        b = self.cells.get("bakehouse")
        d = self.cells.get("dagster")
        if self.unit == "count":  # processes, nodes: a ratio of counts says nothing useful
            return None
        if b is None or d is None or b.median is None or d.median is None:
            return None
        if b.median <= 0 or d.median <= 0:  # a slope can come out negative in noisy runs
            return None
        return d.median / b.median


def fmt_value(seconds: float, unit: str) -> str:
    """A value for the table: `unit` "s" or "ms" (the value is seconds), "MB" or "count"."""
    if unit == "ms":
        return f"{seconds * 1000:.1f} ms"
    if unit == "MB":
        return f"{seconds:.0f} MB"
    if unit == "count":
        return f"{seconds:g}"
    if seconds < 10:
        return f"{seconds:.3f}"
    return f"{seconds:.1f}"


def fmt_cell(cell: Cell | None, unit: str) -> str:
    if cell is None:
        return "—"
    if cell.skipped == "not applicable":
        return "—"
    if cell.skipped:
        return f"skipped ({cell.skipped})"
    med = cell.median
    fails = len(cell.failures)
    if cell.derived and med is None:
        return "— (inputs failed)"
    if med is None:
        return f"FAILED ({fails} of {fails})" if fails else "—"
    if cell.derived:
        text = fmt_value(med, unit)
    else:
        lo, hi = min(cell.times), max(cell.times)
        text = (
            f"{fmt_value(med, unit)} ({fmt_value(lo, unit)}{DASH}{fmt_value(hi, unit)}, n={cell.n})"
        )
    if fails:
        text += f" + {fails} failed"
    return text


def fmt_ratio(ratio: float | None) -> str:
    if ratio is None:
        return "—"
    return f"{ratio:.1f}{TIMES}" if ratio >= 1.95 else f"{ratio:.2f}{TIMES}"


# --------------------------------------------------------------------------- context


# A figure measured besides a run's time: (name in Proc.metrics, row label, unit).
Metric = tuple[str, str, str]


@dataclass
class Workload:
    name: str
    fn: Callable[[Ctx], None]
    heavy: bool
    help: str


WORKLOADS: dict[str, Workload] = {}
# More bullets for docs/benchmarks.md's "Reading the numbers", from workloads kept in modules
# of their own: each gets the rows measured and returns the bullets that apply to them.
READING_NOTES: list[Callable[[list[Row]], list[str]]] = []


def workload(
    name: str, *, heavy: bool = False, help: str = ""
) -> Callable[[Callable[[Ctx], None]], Callable[[Ctx], None]]:
    """Register a workload. `heavy` ones default to n=3 instead of n=5."""

    def register(fn: Callable[[Ctx], None]) -> Callable[[Ctx], None]:
        WORKLOADS[name] = Workload(name, fn, heavy, help or (fn.__doc__ or "").strip())
        return fn

    return register


class Ctx:
    def __init__(self, args: argparse.Namespace, tools: list[str], broken: dict[str, str]):
        self.args = args
        self.tools = tools
        self.broken = broken  # tool -> why it cannot run (venv failed)
        self.rows: list[Row] = []
        self.current: Workload | None = None
        self.run_id = time.strftime("%Y%m%d-%H%M%S")
        self.scratch = WORK / "scratch"
        self.scratch.mkdir(parents=True, exist_ok=True)
        # tool -> (argv, cwd, env) of the row being measured, for validators.
        self.plans: dict[str, tuple[list[str], Path, dict[str, str]]] = {}

    # -- helpers for workloads
    def reps(self) -> int:
        if self.args.reps:
            return int(self.args.reps)
        if self.args.quick:
            return 1
        return 3 if self.current is not None and self.current.heavy else 5

    def project(self, tool: str, shape: str, n: int) -> Path:
        return gen_project.generate(PROJECTS, tool, shape, n)

    def new_home(self, tool: str) -> Path:
        base = HOMES / self.run_id
        base.mkdir(parents=True, exist_ok=True)
        home = Path(tempfile.mkdtemp(prefix=f"{tool}-", dir=base))
        if tool == "dagster":
            (home / "dagster.yaml").write_text(DAGSTER_YAML)
        return home

    def env_for(
        self, tool: str, project: Path | None, home: Path, extra: dict[str, str] | None
    ) -> dict[str, str]:
        env = clean_env()
        venv = VENVS[tool].path
        env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
        env["VIRTUAL_ENV"] = str(venv)
        env[HOME_VAR[tool]] = str(home)
        if project is not None:
            env["PYTHONPATH"] = str(project / "src")
        env.update(extra or {})
        return env

    def compare(
        self,
        label: str,
        commands: dict[str, list[str]],
        *,
        project: tuple[str, int] | None = None,
        env: dict[str, dict[str, str]] | None = None,
        timeout: float = 300,
        validate: Callable[[str, Proc, tuple[str, int] | None], str | None] | None = None,
        reps: int | dict[str, int] | None = None,
        cwd: Callable[[str], Path] | None = None,
        runner: Runner | None = None,
        warmup: Collection[str] = TOOLS,
        metrics: Collection[Metric] = (),
    ) -> dict[str, Cell]:
        """Run each tool's command `reps` times (tools interleaved), add a row, return cells.

        commands: tool -> argv; argv[0] is looked up in that tool's venv bin.
        project: (shape, N) — generated per tool; the command runs inside it, with
        PYTHONPATH=<project>/src.
        cwd: tool -> directory to run in instead (no PYTHONPATH), e.g. a workspace.
        validate: returns an error text when a run that exited 0 is still wrong; it may look
        at `self.plans` (tool -> argv, cwd, env of this row).
        reps: one count for all tools, or tool -> count (others get the default).
        runner: runs one command (default: `run_process`); see `server_runner`.
        warmup: the tools that get an untimed warm-up run first.
        metrics: (name, label, unit) of figures the runner measures besides the time (in
        `Proc.metrics`, e.g. `run_server`'s `rss_mb`): each becomes a row of its own right
        after this one, from the same timed runs; a run that failed before measuring one
        counts as a failure in that row, a clean run without it makes the tool's cell "—".
        """
        per_tool = reps if isinstance(reps, dict) else {}
        default_reps = reps if isinstance(reps, int) else self.reps()
        tool_reps = {t: per_tool.get(t, default_reps) for t in self.tools}
        cells: dict[str, Cell] = {}
        plans: dict[str, tuple[list[str], Path, dict[str, str]]] = {}
        self.plans = plans
        for tool in self.tools:
            cell = cells[tool] = Cell()
            if tool not in commands:
                cell.skipped = "not applicable"
                continue
            if tool in self.broken:
                cell.skipped = "venv not ready"
                cell.failures.append(self.broken[tool])
                continue
            argv = list(commands[tool])
            argv[0] = str(VENVS[tool].bin(argv[0]))
            if cwd is not None:
                where = cwd(tool)
            else:
                where = self.project(tool, *project) if project else self.scratch
            home = self.new_home(tool)
            plans[tool] = (
                argv,
                where,
                self.env_for(tool, where if project else None, home, (env or {}).get(tool)),
            )
        if self.args.wait_idle > 0 and not self.args.quick:
            # Other people's test runs come in bursts: let one finish before a row starts.
            busy = wait_for_idle(min(ROW_IDLE_WAIT, self.args.wait_idle), window=1.0)
            if busy >= NOISY_CPUS:
                log(f"  still {busy:.2f} CPUs busy elsewhere after {ROW_IDLE_WAIT} s; measuring")
        load = os.getloadavg()[0]
        counts = sorted({tool_reps[t] for t in plans}) or [0]
        n_text = (
            str(counts[0]) if len(counts) == 1 else ", ".join(f"{t} {tool_reps[t]}" for t in plans)
        )
        log(f"{label}: n={n_text} (load {load:.2f})")
        foreign = ForeignLoad()

        notes: dict[str, list[str]] = {}
        attempts = dict.fromkeys(plans, 0)
        extra = {name: {tool: Cell() for tool in cells} for name, _label, _unit in metrics}
        for name in extra:
            for tool, cell in cells.items():
                extra[name][tool].skipped = cell.skipped
                extra[name][tool].failures = list(cell.failures) if cell.skipped else []

        def once(tool: str, record: bool) -> None:
            argv, cwd, tool_env = plans[tool]
            attempts[tool] += 1
            if runner is None:
                res = run_process(argv, cwd=cwd, env=tool_env, timeout=timeout)
            else:
                res = runner(tool, argv, cwd=cwd, env=tool_env, timeout=timeout)
            error = res.error  # set by a runner that checks more than the exit code
            if error is None and res.rc is None:
                error = f"timed out after {timeout:.0f} s"
            elif error is None and res.rc != 0:
                output = ANSI.sub("", res.stderr.strip() or res.stdout.strip())
                # The exception line first: logs and the doc show only the first line.
                error = f"exit {res.rc}: {summary_line(output)}\n{tail(output, 3000)}"
            elif error is None and validate is not None:
                error = validate(tool, res, project)
            if res.note:
                log(f"  {tool}: {res.note}")
                notes.setdefault(tool, []).append(res.note)
            elif res.leftovers:
                log(f"  {tool}: left processes behind; killed their group")
            if res.session_error:
                log(f"  {tool}: measuring the running server failed: {res.session_error}")
            if error:
                log(f"  {tool}: FAILED {error.splitlines()[0]}")
                # A failed warm-up is recorded too: the row must show it.
                cells[tool].failures.append(error)
            elif record:
                cells[tool].times.append(res.seconds)
            if record:
                for name, by_tool in extra.items():
                    if name in res.metrics:
                        by_tool[tool].times.append(res.metrics[name])
                    elif error or res.session_error:
                        by_tool[tool].failures.append(error or res.session_error or "")
                    else:  # a clean run without it: this tool has no such figure
                        by_tool[tool].skipped = "not applicable"
            if record or error:
                log(f"  {tool}: {res.seconds:.3f} s" + ("" if record else " (warm-up)"))

        if not self.args.quick and not self.args.no_warmup:
            for tool in plans:
                if tool in warmup:
                    once(tool, record=False)
        for rep in range(max(tool_reps[t] for t in plans) if plans else 0):
            for tool in plans:
                if rep >= tool_reps[tool]:
                    continue
                if len(cells[tool].failures) >= 2 and not cells[tool].times:
                    continue  # failing every time: do not spend the timeouts again
                once(tool, record=True)
        shown = {t: shlex.join([Path(a[0]).name, *a[1:]]) for t, (a, _c, _e) in plans.items()}
        assert self.current is not None
        busy = foreign.cpus()
        if busy > NOISY_CPUS:
            log(f"  other processes kept {busy:.2f} CPUs busy during this row")
        self.rows.append(
            Row(
                self.current.name,
                label,
                cells,
                commands=shown,
                loadavg=load,
                foreign_cpus=busy,
                note="; ".join(
                    f"{TOOL_TITLE[t]} {text} in {said.count(text)} of {attempts[t]} runs "
                    "(warm-up included)"
                    for t, said in notes.items()
                    for text in dict.fromkeys(said)
                ),
            )
        )
        for name, label, unit in metrics:
            self.rows.append(
                Row(
                    self.current.name,
                    label,
                    extra[name],
                    unit=unit,
                    loadavg=load,
                    foreign_cpus=busy,
                )
            )
        return cells

    def derived(
        self, label: str, values: dict[str, float | None], *, unit: str = "s", note: str = ""
    ) -> None:
        cells: dict[str, Cell] = {}
        for tool in self.tools:
            value = values.get(tool)
            cells[tool] = Cell(derived=True, value=value)
            if value is None:
                cells[tool].failures.append("inputs missing")
        assert self.current is not None
        self.rows.append(Row(self.current.name, label, cells, unit=unit, note=note))


# --------------------------------------------------------------------------- workloads

CLI_SIZES = [("chain", 10), ("chain", 1000), ("layered", 10), ("layered", 1000)]


def validate_list_json(tool: str, res: Proc, project: tuple[str, int] | None) -> str | None:
    """stdout must be JSON and name the last asset of the project."""
    try:
        json.loads(res.stdout)
    except ValueError as exc:
        return f"stdout is not JSON ({exc}): {tail(res.stdout, 200)}"
    if project is not None:
        last = gen_project.asset_names(*project)[-1]
        if last not in res.stdout:
            return f"asset {last} missing from the listing"
    return None


def validate_in_process(tool: str, res: Proc, project: tuple[str, int] | None) -> str | None:
    """Dagster must really have used the in-process executor (BENCH_EXECUTOR reached it)."""
    if tool == "dagster" and "Executing steps in process" not in res.stderr + res.stdout:
        return "Dagster did not report 'Executing steps in process'"
    return None


@workload("cli_start", help="CLI start-up: `bh --help` vs `dg --version`; `dagster --version` too")
def wl_cli_start(ctx: Ctx) -> None:
    ctx.compare(
        "CLI start: bh --help vs dg --version",
        {"bakehouse": ["bh", "--help"], "dagster": ["dg", "--version"]},
        timeout=60,
    )
    ctx.compare(
        "CLI start: dagster --version (reference)",
        {"dagster": ["dagster", "--version"]},
        timeout=60,
    )


@workload("check_defs", help="`bh check defs` vs `dg check defs`, chain and layered, N=10 and 1000")
def wl_check_defs(ctx: Ctx) -> None:
    for shape, n in CLI_SIZES:
        ctx.compare(
            f"check defs, {shape} N={n}",
            {"bakehouse": ["bh", "check", "defs"], "dagster": ["dg", "check", "defs"]},
            project=(shape, n),
            timeout=300,
        )


@workload(
    "list_defs",
    help="`bh list defs --json` vs `dg list defs --json`, chain and layered, N=10 and 1000",
)
def wl_list_defs(ctx: Ctx) -> None:
    for shape, n in CLI_SIZES:
        ctx.compare(
            f"list defs --json, {shape} N={n}",
            {
                "bakehouse": ["bh", "list", "defs", "--json"],
                "dagster": ["dg", "list", "defs", "--json"],
            },
            project=(shape, n),
            timeout=300,
            validate=validate_list_json,
        )


@workload(
    "materialize",
    heavy=True,
    help="in-process materialization of a chain, N=10 and 100; per-step time from the slope",
)
def wl_materialize(ctx: Ctx) -> None:
    walls: dict[int, dict[str, Cell]] = {}
    for n in (10, 100):
        walls[n] = ctx.compare(
            f"materialize chain N={n}, in-process (wall)",
            materialize_commands(gen_project.package_name("chain", n)),
            project=("chain", n),
            env={tool: {"BENCH_EXECUTOR": "in_process"} for tool in TOOLS},
            timeout=900,
            validate=validate_in_process,
        )
    per_step_rows(ctx, "per step, in-process", walls, 10, 100)


def materialize_commands(pkg: str, *bakehouse_options: str) -> dict[str, list[str]]:
    """`bh launch` vs `dagster asset materialize` of every asset of package `pkg`."""
    return {
        "bakehouse": ["bh", "launch", "--assets", "*", *bakehouse_options],
        "dagster": ["dagster", "asset", "materialize", "--select", "*", "-m", f"{pkg}.definitions"],
    }


def per_step_rows(
    ctx: Ctx, title: str, walls: dict[int, dict[str, Cell]], small: int, large: int
) -> None:
    """Rows of the time per step: the slope between the walls of N=small and N=large."""
    # Medians give the headline figure; the fastest runs give a second estimate that noise
    # from other processes hardly touches (a step of a few ms is small against a fixed cost
    # near a second, so one slow run moves a median slope a lot).
    steps = large - small
    for what, pick in (("wall", Cell.median_or_none), ("fastest run", Cell.min_or_none)):
        per_step: dict[str, float | None] = {}
        for tool in ctx.tools:
            lo, hi = pick(walls[small][tool]), pick(walls[large][tool])
            per_step[tool] = None if lo is None or hi is None else (hi - lo) / steps
        ctx.derived(
            f"{title}: ({what} N={large} {MINUS} {what} N={small}) / {steps}", per_step, unit="ms"
        )


LOCATION_COUNTS = (3, 10)  # 1 location: workload dev_ready
ASSETS_PER_LOCATION = 10

# Dagster's GraphQL: every code location entry, its load status, and whether it loaded.
DAGSTER_LOCATIONS_QUERY = (
    "{ workspaceOrError { __typename "
    "... on Workspace { locationEntries { name loadStatus "
    "locationOrLoadError { __typename ... on PythonError { message } } } } "
    "... on PythonError { message } } }"
)
DAGSTER_ASSETS_QUERY = "{ assetNodes { assetKey { path } } }"


def _workspace_assets(locations: int) -> set[str]:
    return {
        name
        for i in range(locations)
        for name in gen_project.asset_names(
            "chain", ASSETS_PER_LOCATION, gen_project.location_prefix(i)
        )
    }


def _workspace_locations(locations: int) -> set[str]:
    return {gen_project.location_package(i) for i in range(locations)}


def _all_loaded(states: list[tuple[str, str, str | None]], wanted: set[str]) -> str | None:
    """(name, status, error) per location -> None (not yet), "" (the `wanted` locations all
    LOADED) or an error."""
    for name, _status, error in states:
        if error:
            return f"location {name} failed to load: {error}"
    names = {name for name, _s, _e in states}
    if names == wanted and all(s == "LOADED" for _n, s, _e in states):
        return ""
    return None


def bakehouse_probe(locations: set[str]) -> Probe:
    """Ready when GET /api/locations lists every one of `locations` as LOADED."""

    def probe(port: int) -> str | None:
        answer = http_json(port, "/api/locations")
        if not isinstance(answer, list):
            return None
        states = [
            (
                str(loc.get("name")),
                str(loc.get("status")),
                (loc.get("error") or {}).get("message") if loc.get("status") == "FAILED" else None,
            )
            for loc in answer
        ]
        return _all_loaded(states, locations)

    return probe


def bakehouse_verify(assets: set[str]) -> Probe:
    """The host's global graph (GET /api/assets) holds exactly `assets`."""

    def verify(port: int) -> str | None:
        answer = http_json(port, "/api/assets?limit=10000", timeout=60)
        if not isinstance(answer, list):
            return f"GET /api/assets gave no list: {str(answer)[:200]}"
        return _same_assets({str(a.get("key")) for a in answer}, assets)

    return verify


def dagster_probe(locations: set[str]) -> Probe:
    """Ready when Dagster's GraphQL workspaceOrError reports every one of `locations` as
    LOADED with a RepositoryLocation (not a PythonError)."""

    def probe(port: int) -> str | None:
        answer = http_json(port, "/graphql", {"query": DAGSTER_LOCATIONS_QUERY})
        if not isinstance(answer, dict):
            return None
        workspace = (answer.get("data") or {}).get("workspaceOrError") or {}
        if workspace.get("__typename") != "Workspace":
            return None
        states = []
        for entry in workspace.get("locationEntries") or []:
            loaded = entry.get("locationOrLoadError") or {}
            error = loaded.get("message") if loaded.get("__typename") == "PythonError" else None
            status = entry.get("loadStatus")
            if status == "LOADED" and loaded.get("__typename") != "RepositoryLocation":
                error = error or f"loaded as {loaded.get('__typename')}"
            states.append((str(entry.get("name")), str(status), error))
        return _all_loaded(states, locations)

    return probe


def dagster_verify(assets: set[str]) -> Probe:
    """Dagster's asset graph (GraphQL assetNodes) holds exactly `assets`."""

    def verify(port: int) -> str | None:
        answer = http_json(port, "/graphql", {"query": DAGSTER_ASSETS_QUERY}, timeout=60)
        data = answer.get("data") if isinstance(answer, dict) else None
        nodes = data.get("assetNodes") if isinstance(data, dict) else None
        if not isinstance(nodes, list):
            return f"GraphQL assetNodes gave no list: {str(answer)[:200]}"
        return _same_assets({"/".join(n["assetKey"]["path"]) for n in nodes}, assets)

    return verify


def _same_assets(seen: set[str], wanted: set[str]) -> str | None:
    if seen == wanted:
        return None
    missing, extra = sorted(wanted - seen), sorted(seen - wanted)
    return f"asset graph differs from the projects: missing {missing[:5]}, extra {extra[:5]}"


def workspace_dir(tool: str, *, locations: int) -> Path:
    return gen_project.generate_workspace(PROJECTS, tool, locations, "chain", ASSETS_PER_LOCATION)


# The pair of servers every server workload compares (bench/README.md says why this pair).
DEV_COMMANDS = {
    "bakehouse": ["bh", "dev", "--no-reload", "--port", "{port}"],
    "dagster": ["dg", "dev", "--use-active-venv", "--host", "127.0.0.1", "--port", "{port}"],
}


def locations_row(ctx: Ctx, k: int) -> None:
    """One row of `bh dev` vs `dg dev` on a workspace of k locations x 10 assets, timed until
    every location is LOADED, plus the rows of the process tree's memory and process count
    at that moment and of the processes still alive 20 s after Ctrl-C."""
    names, assets = _workspace_locations(k), _workspace_assets(k)
    probes = {
        "bakehouse": (bakehouse_probe(names), bakehouse_verify(assets)),
        "dagster": (dagster_probe(names), dagster_verify(assets)),
    }
    what = f"{k} location{'s' if k > 1 else ''} {TIMES} {ASSETS_PER_LOCATION} assets"
    ctx.compare(
        f"start to all locations LOADED, {what}",
        DEV_COMMANDS,
        cwd=functools.partial(workspace_dir, locations=k),
        runner=server_runner(probes),
        timeout=300,
        metrics=[
            ("rss_mb", f"RSS of the process tree when LOADED, {what}", "MB"),
            ("processes", f"processes in the tree when LOADED, {what}", "count"),
            (
                "left_behind",
                f"processes left {STOP_GRACE:.0f} s after Ctrl-C, {what}",
                "count",
            ),
        ],
    )


@workload(
    "dev_ready",
    heavy=True,
    help="`bh dev --no-reload` vs `dg dev --use-active-venv`, 1 location of 10 assets: start "
    "to LOADED, RSS of the whole process tree then, processes left 20 s after Ctrl-C",
)
def wl_dev_ready(ctx: Ctx) -> None:
    locations_row(ctx, 1)


@workload(
    "locations_start",
    heavy=True,
    help="the same as dev_ready on workspaces of 3 and 10 locations (10 assets each)",
)
def wl_locations_start(ctx: Ctx) -> None:
    for k in LOCATION_COUNTS:
        locations_row(ctx, k)


UI_SIZES = (100, 1000, 5000)
UI_SIZES_QUICK = (100, 1000)
UI_WARM_REPS = 10  # warm API calls per server start (3 with --quick)...
UI_WARM_BUDGET = 10.0  # ...but no more than fit in this many seconds, and at least 3
UI_PAGE_LOADS = 3  # lineage page loads per server start: the first, then the median of the rest
BROWSER_PYTHON = REPO / ".venv" / "bin" / "python"  # the dev venv: it has playwright

# The fields Dagster 1.13's UI asks for to draw the global asset graph: its "Global asset
# lineage" page (/asset-groups) loads every code location's asset nodes with one query per
# location (operation LocationWorkspaceAssetsQuery, seen in the browser's requests; its
# fragments inlined here), then lays the graph out in the browser.
DAGSTER_GRAPH_QUERY = """
query LocationWorkspaceAssetsQuery($name: String!) {
  workspaceLocationEntryOrError(name: $name) {
    __typename
    ... on WorkspaceLocationEntry {
      id name loadStatus updatedTimestamp versionKey
      locationOrLoadError {
        __typename
        ... on RepositoryLocation {
          id name
          repositories {
            id name
            assetNodes {
              id changedReasons groupName opNames isMaterializable isObservable isExecutable
              isPartitioned isAutoCreatedStub hasAssetChecks computeKind
              hasMaterializePermission hasWipePermission hasReportRunlessAssetEventPermission
              assetKey { path }
              internalFreshnessPolicy {
                __typename
                ... on TimeWindowFreshnessPolicy { failWindowSeconds warnWindowSeconds }
                ... on CronFreshnessPolicy { deadlineCron lowerBoundDeltaSeconds timezone }
              }
              partitionDefinition { dimensionTypes { type dynamicPartitionsDefinitionName } }
              automationCondition { __typename }
              description(characterLimit: 240)
              owners {
                __typename
                ... on UserAssetOwner { email }
                ... on TeamAssetOwner { team }
              }
              tags { key value }
              storageAddress { storageKind tableName }
              jobNames kinds graphName
              dependencyKeys { path }
            }
            assetGroups { id groupName }
          }
        }
        ... on PythonError { message stack errorChain { isExplicitLink error { message stack } } }
      }
    }
    ... on PythonError { message stack errorChain { isExplicitLink error { message stack } } }
  }
}
"""
# The asset list the Dagster baseline timed (keys and their dependencies).
DAGSTER_ASSET_LIST_QUERY = "{ assetNodes { assetKey { path } dependencyKeys { path } } }"


class HttpTimer:
    """Timed requests over one kept-alive connection to 127.0.0.1:port."""

    def __init__(self, port: int) -> None:
        import http.client

        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

    def call(self, path: str, body: object = None) -> tuple[float, Any]:
        """Seconds until the whole answer was read, and the decoded JSON (GET, or POST `body`)."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data else {}
        started = time.perf_counter()
        self.conn.request("GET" if data is None else "POST", path, body=data, headers=headers)
        answer = self.conn.getresponse()
        raw = answer.read()
        seconds = time.perf_counter() - started
        if answer.status != 200:
            raise RuntimeError(f"{path}: HTTP {answer.status}: {raw[:300]!r}")
        return seconds, json.loads(raw)

    def first_and_warm(self, path: str, body: object, reps: int) -> tuple[float, float, Any]:
        """The first call's seconds, the median of `reps` more (fewer, but at least 3, when
        they would take over UI_WARM_BUDGET seconds: Dagster's 5,000-asset query takes ~3 s),
        and the first answer."""
        first, answer = self.call(path, body)
        warm: list[float] = []
        while len(warm) < reps and (len(warm) < 3 or sum(warm) < UI_WARM_BUDGET):
            warm.append(self.call(path, body)[0])
        return first, statistics.median(warm), answer

    def close(self) -> None:
        self.conn.close()


def _graph_size(tool: str, answer: Any) -> int:
    """How many asset nodes an asset-graph API answer holds."""
    if tool == "bakehouse":
        return len(answer["nodes"])
    entry = answer["data"]["workspaceLocationEntryOrError"]
    location = entry.get("locationOrLoadError") or {}
    if location.get("__typename") != "RepositoryLocation":
        raise RuntimeError(f"GraphQL answered {str(entry)[:300]}")
    return sum(len(repo["assetNodes"]) for repo in location["repositories"])


def ui_session(ctx: Ctx, tool: str, pkg: str, n: int) -> Session:
    """Measures one ready server: the asset-graph API (first call, warm median), the asset
    list API (warm), and the lineage page in chromium (first load, median of the next)."""
    reps = 3 if ctx.args.quick else UI_WARM_REPS

    def session(port: int, metrics: dict[str, float]) -> str | None:
        timer = HttpTimer(port)
        try:
            if tool == "bakehouse":
                graph: tuple[str, object] = ("/api/graph", None)
                listing: tuple[str, object] = ("/api/assets?limit=10000", None)
            else:
                graph = ("/graphql", {"query": DAGSTER_GRAPH_QUERY, "variables": {"name": pkg}})
                listing = ("/graphql", {"query": DAGSTER_ASSET_LIST_QUERY})
            first, warm, answer = timer.first_and_warm(*graph, reps)
            if (got := _graph_size(tool, answer)) != n:
                return f"the asset-graph API gave {got} nodes, not {n}"
            metrics["graph_first"], metrics["graph_warm"] = first, warm
            metrics["list_warm"] = timer.first_and_warm(*listing, reps)[1]
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
            return f"API: {type(exc).__name__}: {exc}"
        finally:
            timer.close()
        return _browser_metrics(ctx, tool, port, n, metrics)

    return session


def _browser_metrics(
    ctx: Ctx, tool: str, port: int, n: int, metrics: dict[str, float]
) -> str | None:
    """Runs bench/lineage_browser.py (dev venv, Debian chromium) against the server."""
    if not BROWSER_PYTHON.exists():
        return f"no {BROWSER_PYTHON} (run scripts/setup): the browser rows need playwright"
    loads = 2 if ctx.args.quick else UI_PAGE_LOADS
    res = run_process(
        [
            str(BROWSER_PYTHON),
            str(BENCH / "lineage_browser.py"),
            "--tool",
            tool,
            "--url",
            f"http://127.0.0.1:{port}",
            "--assets",
            str(n),
            "--loads",
            str(loads),
        ],
        cwd=BENCH,
        env=clean_env(),
        timeout=loads * 300 + 60,
    )
    if res.rc != 0:
        return f"browser: {summary_line(res.stderr or res.stdout)}"
    try:
        found = json.loads(res.stdout)
        drawn, nodes = found["drawn_s"], found["nodes"]
    except (ValueError, KeyError) as exc:
        return f"browser: unreadable answer ({exc}): {tail(res.stdout, 200)}"
    metrics["lineage_first"] = drawn[0]
    metrics["lineage_nodes"] = nodes[0]
    if len(drawn) > 1:
        metrics["lineage_again"] = statistics.median(drawn[1:])
    return None


@workload(
    "ui_graph",
    heavy=True,
    help="`bh dev` vs `dg dev` serving a layered project of 100, 1,000 and 5,000 assets "
    "(100 and 1,000 with --quick): start to LOADED, RSS, the asset-graph API (first call, "
    "warm), the asset list API, and the lineage page drawn in chromium",
)
def wl_ui_graph(ctx: Ctx) -> None:
    for n in UI_SIZES_QUICK if ctx.args.quick else UI_SIZES:
        pkg = gen_project.package_name("layered", n)
        assets = set(gen_project.asset_names("layered", n))
        probes = {
            "bakehouse": (bakehouse_probe({pkg}), bakehouse_verify(assets)),
            "dagster": (dagster_probe({pkg}), dagster_verify(assets)),
        }
        sessions = {tool: ui_session(ctx, tool, pkg, n) for tool in TOOLS}
        what = f"layered N={n:,}"
        ctx.compare(
            f"UI {what}: start to LOADED",
            DEV_COMMANDS,
            project=("layered", n),
            runner=server_runner(probes, sessions),
            timeout=600,
            metrics=[
                ("rss_mb", f"UI {what}: RSS of the process tree when LOADED", "MB"),
                ("graph_first", f"UI {what}: asset-graph API, first call", "ms"),
                ("graph_warm", f"UI {what}: asset-graph API, warm median", "ms"),
                ("list_warm", f"UI {what}: asset list API, warm median", "ms"),
                ("lineage_first", f"UI {what}: lineage page drawn, first load", "s"),
                ("lineage_again", f"UI {what}: lineage page drawn, next loads", "s"),
                ("lineage_nodes", f"UI {what}: asset nodes drawn on the lineage page", "count"),
            ],
        )


MULTIPROCESS_SIZES = (10, 100)
MULTIPROCESS_SIZES_QUICK = (5, 20)  # Dagster needs ~2 s a step: keep --quick short


def validate_multiprocess(ctx: Ctx) -> Callable[[str, Proc, tuple[str, int] | None], str | None]:
    """Both tools must have run every step, with their multiprocess executor."""

    def validate(tool: str, res: Proc, project: tuple[str, int] | None) -> str | None:
        assert project is not None
        n = project[1]
        output = ANSI.sub("", res.stdout + res.stderr)
        if tool == "dagster":
            return dagster_run_check(ctx.plans[tool][2], output, n)
        found = re.search(r"Run SUCCESS in .*?: (\d+) steps succeeded", output)
        if not found or int(found.group(1)) != n:
            return f"bakehouse did not report {n} steps succeeded: {summary_line(output)}"
        run_id = re.search(r"^Run (\S+) of ", output, re.MULTILINE)
        if not run_id:
            return "bakehouse printed no run id"
        argv, cwd, env = ctx.plans[tool]
        shown = run_process(
            [str(Path(argv[0]).parent / "bh"), "runs", "show", run_id.group(1)],
            cwd=cwd,
            env=env,
            timeout=60,
        )
        if not re.search(r"Executing \d+ steps in up to \d+ worker processes", shown.stdout):
            return f"the run's events show no multiprocess executor: {tail(shown.stdout, 300)}"
        return None

    return validate


def dagster_run_check(env: dict[str, str], output: str, n: int) -> str | None:
    """Dagster's run (its id from the log) must have recorded n STEP_SUCCESS, RUN_SUCCESS and
    the multiprocess executor's start in its event log. Asked of the instance's SQLite
    storage, not the console: step processes write to the console concurrently, and lines
    do get lost there (seen: 29 of 30 STEP_SUCCESS lines for a run that stored 30)."""
    import sqlite3

    found = re.search(r"__ASSET_JOB - ([0-9a-f-]{36}) - ", output)
    if not found:
        return f"Dagster printed no run id: {summary_line(output)}"
    db = Path(env["DAGSTER_HOME"]) / "history" / "runs" / f"{found.group(1)}.db"
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
            counts = dict(
                conn.execute(
                    "SELECT dagster_event_type, COUNT(*) FROM event_logs "
                    "WHERE dagster_event_type IN ('STEP_SUCCESS', 'PIPELINE_SUCCESS') "
                    "GROUP BY dagster_event_type"
                ).fetchall()
            )
            multiprocess = conn.execute(
                "SELECT COUNT(*) FROM event_logs WHERE dagster_event_type = 'ENGINE_EVENT' "
                "AND event LIKE '%Executing steps using multiprocess executor%'"
            ).fetchone()[0]
    except sqlite3.Error as exc:
        return f"cannot read Dagster's event log {db}: {exc}"
    if not multiprocess:
        return "Dagster's run did not record 'Executing steps using multiprocess executor'"
    if counts.get("STEP_SUCCESS") != n or not counts.get("PIPELINE_SUCCESS"):
        return f"Dagster's run recorded {counts.get('STEP_SUCCESS', 0)} of {n} STEP_SUCCESS" + (
            "" if counts.get("PIPELINE_SUCCESS") else " and no RUN_SUCCESS"
        )
    return None


@workload(
    "multiprocess",
    heavy=True,
    help="each tool's multiprocess executor on a chain and a fan-out (1 root, N-1 leaves), "
    "N=10 and 100 (5 and 20 with --quick); per-step time from the slope",
)
def wl_multiprocess(ctx: Ctx) -> None:
    small, large = MULTIPROCESS_SIZES_QUICK if ctx.args.quick else MULTIPROCESS_SIZES
    for shape in ("chain", "fanout"):
        walls: dict[int, dict[str, Cell]] = {}
        for n in (small, large):
            # Dagster's step costs ~2 s here, so N=100 runs once, with no warm-up: ~210 s for
            # the chain. bakehouse gets the usual warm-up and repetitions.
            slow = n >= 100 and not ctx.args.reps
            walls[n] = ctx.compare(
                f"multiprocess {shape} N={n} (wall)",
                materialize_commands(
                    gen_project.package_name(shape, n), "--executor", "multiprocess"
                ),
                project=(shape, n),
                timeout=1200,
                validate=validate_multiprocess(ctx),
                reps={"dagster": 1} if slow else None,
                warmup=("bakehouse",) if slow else TOOLS,
            )
        per_step_rows(ctx, f"per step, multiprocess {shape}", walls, small, large)


# --------------------------------------------------------------------------- facts, report


def machine_facts(
    tools: list[str], broken: dict[str, str], rev_sha: str | None
) -> dict[str, object]:
    cpu = "unknown"
    mem = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    facts: dict[str, object] = {
        "nproc": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "os": f"{platform.system()} {platform.release()} {platform.machine()}",
        "harness_python": platform.python_version(),
    }
    code = (
        "import sys, importlib.metadata as m\n"
        "def v(d):\n"
        "    try: return m.version(d)\n"
        "    except Exception: return None\n"
        "print(sys.version.split()[0])\n"
        "for d in sys.argv[1:]: print(v(d))\n"
    )
    dists = {
        "dagster": ["dagster", "dagster-dg-cli", "dagster-webserver"],
        "bakehouse": ["bakehouse"],
    }
    for tool in tools:
        if tool in broken:
            continue
        res = run_process(
            [str(VENVS[tool].python), "-c", code, *dists[tool]],
            cwd=BENCH,
            env=clean_env(),
            timeout=60,
        )
        lines = res.stdout.split()
        if res.rc == 0 and lines:
            facts[f"{tool}_python"] = lines[0]
            for dist, version in zip(dists[tool], lines[1:], strict=False):
                facts[dist] = version
    if rev_sha:
        facts["bakehouse_commit"] = f"{rev_sha[:7]} (clean export, `--bakehouse-rev`)"
        return facts
    git = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    if git.returncode == 0:
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "src"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        facts["bakehouse_commit"] = git.stdout.strip() + (
            " (+ uncommitted src changes)" if dirty else ""
        )
    return facts


def table_grid(rows: list[Row], tools: list[str]) -> list[list[str]]:
    """Header + one list of cells per row."""
    both = set(TOOLS) <= set(tools)
    head = ["workload"] + [f"{TOOL_TITLE[t]} median (min{DASH}max, n)" for t in tools]
    grid = [head + (["ratio Dagster / bakehouse"] if both else [])]
    for row in rows:
        label = row.label + (f" {DISTURBED}" if row.foreign_cpus > NOISY_CPUS else "")
        cols = [label] + [fmt_cell(row.cells.get(t), row.unit) for t in tools]
        grid.append(cols + ([fmt_ratio(row.ratio())] if both else []))
    return grid


def table_lines(rows: list[Row], tools: list[str]) -> list[str]:
    grid = table_grid(rows, tools)
    md = ["| " + " | ".join(c.replace("|", "\\|") for c in cols) + " |" for cols in grid]
    return [md[0], "|" + "---|" * len(grid[0]), *md[1:]]


def print_table(rows: list[Row], tools: list[str]) -> None:
    grid = table_grid(rows, tools)
    widths = [max(len(r[i]) for r in grid) for i in range(len(grid[0]))]
    print()
    for k, r in enumerate(grid):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        if k == 0:
            print("  ".join("-" * w for w in widths))
    print()


def find_row(rows: list[Row], label_start: str) -> Row | None:
    return next((r for r in rows if r.label.startswith(label_start)), None)


# (row label prefix, target text, limit in seconds, unit) for the "Targets" section.
TARGETS = [
    ("CLI start: bh --help", f"`bh --help` < {TARGET_HELP} s", TARGET_HELP, "s"),
    *[
        (
            f"check defs, {shape} N=10",
            f"`bh check defs`, {shape} N=10 < {BASELINE_CHECK_DEFS_10 / 10:.2f} s "
            f"(10{TIMES} better than Dagster's {BASELINE_CHECK_DEFS_10} s)",
            BASELINE_CHECK_DEFS_10 / 10,
            "s",
        )
        for shape in ("chain", "layered")
    ],
    (
        "per step, in-process",
        f"per-step in-process < {BASELINE_PER_STEP * 100:.1f} ms "
        f"(10{TIMES} better than Dagster's ~{BASELINE_PER_STEP * 1000:.0f} ms)",
        BASELINE_PER_STEP / 10,
        "ms",
    ),
    *[
        (
            f"per step, multiprocess {shape}",
            f"per-step multiprocess, {shape} < {TARGET_MULTIPROCESS_STEP * 1000:.0f} ms "
            f"(Dagster's baseline: ~{BASELINE_MULTIPROCESS_PER_STEP:.1f} s on a chain)",
            TARGET_MULTIPROCESS_STEP,
            "ms",
        )
        for shape in ("chain", "fanout")
    ],
    (
        "start to all locations LOADED, 1 location",
        f"`bh dev` start to its location LOADED, 1 location {TIMES} 10 assets "
        f"< {TARGET_DEV_READY} s (issue 4 measured `dg dev` at 6.2 s)",
        TARGET_DEV_READY,
        "s",
    ),
    (
        "RSS of the process tree when LOADED, 1 location",
        f"`bh dev` RSS of its whole process tree then < {TARGET_DEV_RSS} MB "
        "(issue 4: `dg dev` 876 MB over 10 processes)",
        TARGET_DEV_RSS,
        "MB",
    ),
    (
        f"processes left {STOP_GRACE:.0f} s after Ctrl-C, 1 location",
        f"no process of `bh dev` alive {STOP_GRACE:.0f} s after Ctrl-C, in any run",
        0.5,
        "count",
    ),
]


def targets(rows: list[Row]) -> list[tuple[str, str, str, str]]:
    """(target, bakehouse value, Dagster value in this run, verdict) for each of TARGETS."""
    out = []
    for prefix, text, limit, unit in TARGETS:
        row = find_row(rows, prefix)
        values = [row.cells[t].median if row and t in row.cells else None for t in TOOLS]
        if unit == "count" and row is not None:  # a count target must hold in every run
            values = [
                max(row.cells[t].times) if t in row.cells and row.cells[t].times else None
                for t in TOOLS
            ]
        shown = [
            "—" if v is None else fmt_value(v, unit) + (" s" if unit == "s" else "") for v in values
        ]
        met = None if values[0] is None else values[0] < limit
        verdict = {None: "not measured", True: "met", False: "NOT met"}[met]
        out.append((text, shown[0], shown[1], verdict))
    return out


def reading_notes(rows: list[Row], foreign: list[float]) -> list[str]:
    """The bullets of "Reading the numbers" that apply to the rows measured."""
    notes = []
    speed = find_row(rows, "check defs, chain N=10")
    dagster_now = speed.cells["dagster"].median if speed and "dagster" in speed.cells else None
    if dagster_now:
        notes += [
            f"- The targets are absolute figures taken from Dagster's baseline "
            f"(shared/bench/dagster-1.13-baseline.md: `dg check defs` {BASELINE_CHECK_DEFS_10} s "
            f"at 10 assets, ~{BASELINE_PER_STEP * 1000:.0f} ms per in-process step, "
            f"~{BASELINE_MULTIPROCESS_PER_STEP:.1f} s per multiprocess step). In this "
            f"run the same `dg check defs` took {dagster_now:.2f} s, "
            f"{dagster_now / BASELINE_CHECK_DEFS_10:.2f}{TIMES} the baseline's, so the machine "
            "was that much slower (or busier) than when the baseline was taken; the ratio "
            "column compares both tools under the same conditions.",
        ]
    if find_row(rows, "per step"):
        notes.append(
            "- The per-step figures are slopes between two small medians (n=3, or n=1 with "
            "`--quick`). bakehouse's "
            "step costs a few ms against a fixed cost near a second, so its slope moves by a "
            "few ms between runs; the slope of the fastest runs is given as a second estimate."
        )
    if find_row(rows, "start to all locations LOADED"):
        notes.append(
            "- *start to all locations LOADED*: seconds from starting `bh dev --no-reload` or "
            "`dg dev` in a `dg` workspace (a `dg.toml` listing 1, 3 or 10 generated projects "
            "of 10 assets each, asset names unique across them) until its API reports every "
            "location LOADED: `GET /api/locations` for bakehouse, GraphQL `workspaceOrError` "
            "(every entry `loadStatus: LOADED` holding a `RepositoryLocation`) for Dagster, "
            f"polled every {POLL_SECONDS * 1000:.0f} ms. Each run is then checked, untimed: "
            "every asset of every project must be in the served asset graph (`/api/assets`; "
            "GraphQL `assetNodes`). Then the whole process group gets SIGINT, as Ctrl-C in a "
            f"terminal; what is still running {STOP_GRACE:.0f} s later is killed. Both start "
            "a UI, a daemon and one code server per location; `dg dev --use-active-venv` runs "
            "the projects with the Dagster venv's Python, as bakehouse runs projects without "
            "a `.venv` with its own."
        )
    if find_row(rows, "RSS of the process tree"):
        notes.append(
            "- *RSS of the process tree when LOADED*: the sum of `VmRSS` (from `/proc`) over "
            "the server and every process it started (its descendants and the members of its "
            "session), read the moment the API first reports every location LOADED; pages "
            "shared between processes count once per process, as `ps` counts them. *processes "
            f"left {STOP_GRACE:.0f} s after Ctrl-C*: how many of those processes (or of its "
            f"process group or session) were still alive {STOP_GRACE:.0f} s after SIGINT went "
            "to the group; the bench then kills them. Its target must hold in every run."
        )
    if find_row(rows, "UI "):
        notes.append(
            "- *UI* rows: each tool serves a generated layered project (10 layers, each asset "
            "depending on two of the layer before) with the same command as the *locations* "
            "rows. Once it is LOADED and before anything else asks it anything, the bench "
            "times over one kept-alive HTTP connection the *asset-graph API* (bakehouse: "
            "`GET /api/graph`, the nodes, edges and layout its lineage page draws; Dagster: "
            "the GraphQL query its *Global asset lineage* page sends per code location, "
            "`LocationWorkspaceAssetsQuery`, with the same fields; Dagster lays the graph out "
            "in the browser) once, then "
            f"{UI_WARM_REPS} times (fewer, at least 3, when they would take over "
            f"{UI_WARM_BUDGET:.0f} s) for the warm median, and the *asset list API* ("
            "`GET /api/assets` vs GraphQL `assetNodes` with keys and dependencies, the query "
            "of Dagster's baseline). Both answers must hold all N assets. Then Debian's "
            "chromium (headless, 1440x900 viewport, a fresh browser context per load) opens the "
            f"lineage page {UI_PAGE_LOADS} times: bakehouse `/lineage`, Dagster "
            "`/asset-groups`. *Drawn* is the page's own clock (`performance.now()`, from the "
            "start of the navigation) at the animation frame in which bakehouse's canvas "
            "has painted every one of the N nodes, or in which the number of Dagster's asset "
            "nodes in the SVG last changed (it must then stay unchanged for 2 s, not "
            "counted). Dagster draws only the nodes inside the viewport and, above about 100 "
            "assets, opens at a minimum zoom that shows part of the graph; bakehouse fits and "
            "draws all of them. The row *asset nodes drawn* says how many each drew."
        )
    if find_row(rows, "multiprocess"):
        notes.append(
            "- *multiprocess*: each tool's multiprocess executor, bounded by the CPU count (2 "
            "here) on both sides: `bh launch --executor multiprocess` (warm worker processes) "
            "and `dagster asset materialize` with Dagster's default executor (a new process "
            "per step; checked in its run's event log). The chain runs its steps one at a "
            "time; the fan-out is one root and N-1 leaves that depend only on it, so two "
            "steps run at once. Every run must report all N steps succeeded."
            + (
                " Dagster's N=100 rows run once, without a warm-up (about 2 s per step: the "
                "chain takes ~210 s); bakehouse's rows and Dagster's N=10 rows use the usual "
                "warm-up and n=3."
                if find_row(rows, "multiprocess chain N=100")
                else ""
            )
        )
    for more in READING_NOTES:
        notes += more(rows)
    if foreign and max(foreign) > NOISY_CPUS:
        notes.append(
            f"- Other processes kept CPUs busy during the rows marked {DISTURBED} (see the "
            "machine table): on 2 cores that inflates both tools' times and widens the ranges."
        )
    stops = [r for r in rows if r.note]
    if stops:
        notes.append("- Noted while measuring:")
        notes += [f"  - {r.label}: {r.note}" for r in stops]
    return notes


def write_docs(result: dict[str, object], rows: list[Row], tools: list[str]) -> None:
    facts = result["machine"]
    assert isinstance(facts, dict)
    loads = [r.loadavg for r in rows if r.loadavg]
    foreign = [r.foreign_cpus for r in rows if r.commands]
    foreign_text = "not measured"
    if foreign:
        foreign_text = (
            f"{statistics.median(foreign):.2f} median, {max(foreign):.2f} max over the rows "
            "(machine busy time minus the bench's own, per second)"
        )
        if result.get("foreign_cpus_at_start") is not None:
            foreign_text += f"; {result['foreign_cpus_at_start']:.2f} just before the start"
    started = str(result["started"])
    minutes = float(result["seconds"]) / 60  # type: ignore[arg-type]
    lines = [
        "# Benchmarks: bakehouse vs Dagster",
        "",
        "Generated by `python3 bench/run.py --write-docs`; do not edit by hand "
        "(the next run rewrites it). What the workloads are and how the harness works: "
        "[bench/README.md](../bench/README.md).",
        "",
        f"Measured {started[:16].replace('T', ' ')} UTC; the run took {minutes:.1f} min"
        + (" (`--quick`: one repetition, no warm-up)" if result["quick"] else "")
        + ".",
        "",
        "## Machine and versions",
        "",
        "| item | value |",
        "|---|---|",
        f"| CPU | {facts.get('cpu')} (`nproc` = {facts.get('nproc')}) |",
        f"| RAM | {facts.get('memory')} |",
        f"| OS | {facts.get('os')} |",
        f"| Python | bakehouse venv {facts.get('bakehouse_python', '—')}, "
        f"Dagster venv {facts.get('dagster_python', '—')} |",
        f"| bakehouse | {facts.get('bakehouse', '—')} at commit "
        f"{facts.get('bakehouse_commit', '—')}, installed with `pip install -e` |",
        f"| Dagster | dagster {facts.get('dagster', '—')}, "
        f"dagster-dg-cli {facts.get('dagster-dg-cli', '—')}, "
        f"dagster-webserver {facts.get('dagster-webserver', '—')} |",
        f"| load average (1 min) | {result['load_start']:.2f} at the start, "
        f"{result['load_end']:.2f} at the end"
        + (f", {min(loads):.2f}{DASH}{max(loads):.2f} before each row" if loads else "")
        + " (the bench's own commands count in it) |",
        f"| CPUs kept busy by other processes | {foreign_text} |",
        "",
        "## How to repeat",
        "",
        "```",
        "python3 bench/run.py --write-docs      # or: bash bench/run.sh --write-docs",
        "```",
        "",
        "It creates `bench/.venv-dagster` and `bench/.venv-bakehouse` when they are missing "
        "or outdated, generates the projects under `bench/.work/projects/`, and writes the "
        "raw JSON to `bench/.work/results/`.",
        "",
        "## Results",
        "",
        f"Seconds of wall time for the whole command, median (min{DASH}max, n = repetitions), "
        "after one untimed warm-up run (exceptions under *Reading the numbers*). "
        "Ratio = Dagster median / bakehouse median: above 1 bakehouse is faster (in MB "
        "rows: uses less memory); rows that count processes or nodes have no ratio.",
        f"{DISTURBED} marks a row during which other processes kept more than {NOISY_CPUS} "
        "CPUs busy on average (numbers there are less reliable).",
        "",
        *table_lines(rows, tools),
        "",
    ]
    failed = [
        (r, t, c)
        for r in rows
        for t, c in r.cells.items()
        if c.failures and not c.derived and not c.skipped
    ]
    if failed:
        lines += ["### Failures", ""]
        for r, t, c in failed:
            text = ANSI.sub("", c.failures[0])
            rc = text.split(":", 1)[0] + ": " if text.startswith("exit ") else ""
            first = (rc + summary_line(text))[:400].replace("`", "'")
            lines.append(
                f"- {TOOL_TITLE[t]}, {r.label}: {len(c.failures)} failed; first: `{first}`"
            )
        lines.append("")
    notes = reading_notes(rows, foreign)
    if notes:
        lines += ["## Reading the numbers", "", *notes, ""]
    lines += [
        "## Targets",
        "",
        "| target | bakehouse | Dagster in this run | verdict |",
        "|---|---|---|---|",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in targets(rows)],
        "",
        "## Commands",
        "",
        "Each run starts in the generated project's directory with the tool's venv `bin` "
        "first on `PATH`, `PYTHONPATH=<project>/src`, and a fresh temporary `DAGSTER_HOME` "
        "(with telemetry off) or `BAKEHOUSE_HOME` per row. The *materialize* rows run with "
        "`BENCH_EXECUTOR=in_process` for both tools, which merges "
        "`dg.Definitions(executor=dg.in_process_executor)` into the definitions; the "
        "*multiprocess* rows run without it. The *locations* rows start in the workspace's "
        "directory without `PYTHONPATH` (each tool puts every project's `src/` on its code "
        "server's path itself); the *UI* rows start in the generated layered project, as "
        "the CLI rows do; `{port}` is a free port on 127.0.0.1.",
        "",
        "| workload | bakehouse | Dagster |",
        "|---|---|---|",
    ]
    for r in rows:
        if r.commands:
            lines.append(
                f"| {r.label} | "
                + " | ".join(f"`{r.commands[t]}`" if t in r.commands else "—" for t in TOOLS)
                + " |"
            )
    lines.append("")
    lines += kept_sections()
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text("\n".join(lines))
    log(f"wrote {DOC}")


# Sections other benches write into docs/benchmarks.md (bench/catalog_bench.py), between
# ``<!-- NAME: begin -->`` and ``<!-- NAME: end -->``: a rewrite keeps them as they are.
KEPT_SECTION = re.compile(r"<!-- (\w+): begin -->.*?<!-- \1: end -->", re.S)


def kept_sections() -> list[str]:
    """The marked sections of the current docs/benchmarks.md, each followed by a blank line."""
    if not DOC.exists():
        return []
    return [line for m in KEPT_SECTION.finditer(DOC.read_text()) for line in (m.group(0), "")]


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Measure bakehouse and Dagster on the same workloads.")
    p.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="run only these workloads (repeat, or comma-separated); see --list",
    )
    p.add_argument("--list", action="store_true", help="list the workloads and exit")
    p.add_argument("--quick", action="store_true", help="smoke run: n=1, no warm-up")
    p.add_argument("--reps", type=int, help="repetitions for every workload")
    p.add_argument("--no-warmup", action="store_true", help="skip the untimed warm-up runs")
    p.add_argument(
        "--tools", default=",".join(TOOLS), help="comma-separated subset of: bakehouse,dagster"
    )
    p.add_argument(
        "--skip-setup",
        action="store_true",
        help="use the venvs as they are (do not create or refresh them)",
    )
    p.add_argument("--reinstall", action="store_true", help="recreate both venvs")
    p.add_argument(
        "--python",
        default=sys.executable,
        help="interpreter the venvs are created with (default: this one)",
    )
    p.add_argument("--write-docs", action="store_true", help=f"rewrite {DOC.relative_to(REPO)}")
    p.add_argument(
        "--report",
        metavar="RESULTS_JSON",
        help="measure nothing: print the table of a saved run (and with --write-docs "
        "rewrite the doc from it)",
    )
    p.add_argument(
        "--bakehouse-rev",
        metavar="REV",
        help="measure this commit of bakehouse (a clean `git archive` export under "
        "bench/.work/bakehouse-src) instead of the repo's working tree",
    )
    p.add_argument(
        "--wait-idle",
        type=float,
        default=300,
        metavar="SECONDS",
        help="before measuring, wait up to this long for other processes to use < 0.3 CPUs, "
        f"and up to {ROW_IDLE_WAIT} s before each row (default 300; 0: never wait; "
        "never with --quick)",
    )
    p.add_argument(
        "--keep-homes",
        action="store_true",
        help="keep the temporary DAGSTER_HOME / BAKEHOUSE_HOME folders",
    )
    return p.parse_args(argv)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.report:
        saved = json.loads(Path(args.report).read_text())
        return report(saved, rows_from_json(saved), saved["tools"], args.write_docs, None)
    if args.list:
        for w in WORKLOADS.values():
            print(f"{w.name:<16} {'n=3' if w.heavy else 'n=5'}  {w.help}")
        return 0
    only = [n for item in args.only for n in item.split(",") if n]
    unknown = [n for n in only if n not in WORKLOADS]
    if unknown:
        print(
            f"unknown workload(s): {', '.join(unknown)}; known: {', '.join(WORKLOADS)}",
            file=sys.stderr,
        )
        return 2
    tools = [t for t in args.tools.split(",") if t]
    if not tools or any(t not in TOOLS for t in tools):
        print(f"--tools takes a subset of {','.join(TOOLS)}", file=sys.stderr)
        return 2

    # A SIGTERM unwinds like Ctrl-C, so the running command's group is killed too.
    signal.signal(signal.SIGTERM, _raise_interrupt)

    started = time.perf_counter()
    started_at = _dt.datetime.now(_dt.timezone.utc)
    load_start = os.getloadavg()[0]
    WORK.mkdir(parents=True, exist_ok=True)
    broken: dict[str, str] = {}
    rev_sha = None
    if args.bakehouse_rev and "bakehouse" in tools:
        try:
            rev_sha = use_bakehouse_rev(args.bakehouse_rev)
        except (subprocess.CalledProcessError, OSError, tarfile.TarError) as exc:
            broken["bakehouse"] = f"cannot export {args.bakehouse_rev}: {exc}"
    for tool in tools:
        if tool in broken:
            continue
        if args.skip_setup:
            if not VENVS[tool].python.exists():
                broken[tool] = f"{VENVS[tool].path} missing (--skip-setup)"
            continue
        error = ensure_venv(VENVS[tool], args.python, args.reinstall)
        if error:
            broken[tool] = error

    idle = wait_for_idle(0 if args.quick else args.wait_idle)
    log(f"other processes use {idle:.2f} CPUs; starting")
    if idle >= NOISY_CPUS:
        log("warning: other work is running; it will distort the numbers")
    ctx = Ctx(args, tools, broken)
    try:
        for w in WORKLOADS.values():
            if only and w.name not in only:
                continue
            ctx.current = w
            log(f"workload {w.name}")
            w.fn(ctx)
    except KeyboardInterrupt:
        log("interrupted; reporting what was measured")
    finally:
        if not args.keep_homes:
            shutil.rmtree(HOMES / ctx.run_id, ignore_errors=True)

    result: dict[str, object] = {
        "started": started_at.isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - started, 1),
        "argv": sys.argv,
        "quick": args.quick,
        "tools": tools,
        "load_start": load_start,
        "load_end": os.getloadavg()[0],
        "foreign_cpus_at_start": idle,
        "machine": machine_facts(tools, broken, rev_sha),
        "broken": broken,
        "rows": [
            {
                "workload": r.workload,
                "label": r.label,
                "unit": r.unit,
                "note": r.note,
                "commands": r.commands,
                "loadavg": r.loadavg,
                "foreign_cpus": r.foreign_cpus,
                "ratio": r.ratio(),
                "cells": {t: c.to_json() for t, c in r.cells.items()},
            }
            for r in ctx.rows
        ],
    }
    return report(result, ctx.rows, tools, args.write_docs, RESULTS / f"{ctx.run_id}.json")


def report(
    result: dict[str, object], rows: list[Row], tools: list[str], docs: bool, out: Path | None
) -> int:
    """Print the table; save the raw JSON to `out` (unless None); rewrite the doc if asked."""
    if out is not None:
        RESULTS.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1))
        log(f"raw results: {out}; took {result['seconds']} s")
    print_table(rows, tools)
    if docs:
        write_docs(result, rows, tools)
    return 0


def rows_from_json(result: dict[str, object]) -> list[Row]:
    """Rebuild the rows of a saved run (for --report)."""
    rows = []
    for r in result["rows"]:  # type: ignore[attr-defined]
        cells = {
            tool: Cell(
                times=c["times"],
                failures=c["failures"],
                derived=c["derived"],
                value=c["median"] if c["derived"] else None,
                skipped=c["skipped"],
            )
            for tool, c in r["cells"].items()
        }
        rows.append(
            Row(
                r["workload"],
                r["label"],
                cells,
                unit=r["unit"],
                note=r["note"],
                commands={t: shlex.join(shlex.split(c)) for t, c in r["commands"].items()},
                loadavg=r["loadavg"],
                foreign_cpus=r.get("foreign_cpus", 0.0),
            )
        )
    return rows


# Workloads kept in modules of their own register themselves by importing this module as
# `run`: make that name this module even when it runs as a script (else they would fill a copy).
sys.modules.setdefault("run", sys.modules[__name__])
import partitions_bench  # noqa: E402, F401

if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # before or after the workloads (during them it reports)
        log("interrupted")
        sys.exit(130)

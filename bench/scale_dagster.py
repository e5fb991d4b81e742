"""Dagster beside `scale_bench.py`'s loading rows: ``dg check defs`` and ``dg dev`` start to
LOADED on the same generated ``layered`` project, each within a time cap.

Dagster runs from ``bench/.venv-dagster`` (``dagster==1.13.*``, dagster-dg-cli,
dagster-webserver), made by `run.py` when it is missing; it is never a dependency of bakehouse.
The environment is `run.py`'s: the caller's without Python, Dagster or bakehouse variables, the
venv's ``bin`` first on ``PATH``, ``PYTHONPATH=<project>/src`` and a fresh ``DAGSTER_HOME``.
A row that does not finish within the cap is stopped (its process group killed) and reported as
not loaded within it, with the error when Dagster gave one.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import run as bench_run  # noqa: E402 - the bench's own venv maker and Dagster probes


def dagster_venv() -> Path:
    """``bench/.venv-dagster``, made as `run.py` makes it when it is missing (an existing one,
    stamped by run.py, is used as it is)."""
    venv = bench_run.VENVS["dagster"]
    if venv.stamp_file.exists() and venv.python.exists():
        return venv.path
    base = shutil.which("python3") or sys.executable
    error = bench_run.ensure_venv(venv, base, force=False)
    if error:
        raise RuntimeError(f"cannot make {venv.path}: {error}")
    return venv.path


def _env(venv: Path, project: Path, home: Path) -> dict[str, str]:
    env = bench_run.clean_env()
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    env["VIRTUAL_ENV"] = str(venv)
    env["DAGSTER_HOME"] = str(home)
    env["PYTHONPATH"] = str(project / "src")
    return env


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop `proc` and its process group: SIGINT (Ctrl-C), then SIGKILL after 30 s."""
    for sig, wait in ((signal.SIGINT, 30), (signal.SIGKILL, 30)):
        if proc.poll() is not None:
            break
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=wait)
    # Whatever the group left behind (code servers, the daemon).
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def check_defs(venv: Path, project: Path, cap: float) -> dict[str, Any]:
    """``dg check defs`` once: wall and CPU seconds (its process tree), or why not."""
    home = Path(tempfile.mkdtemp(prefix="dg-scale-"))
    try:
        cpu_before = _children_cpu()
        started = time.perf_counter()
        proc = subprocess.Popen(
            [str(venv / "bin" / "dg"), "check", "defs"],
            cwd=project,
            env=_env(venv, project, home),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            out, _ = proc.communicate(timeout=cap)
        except subprocess.TimeoutExpired:
            _stop(proc)
            proc.communicate()
            return {"s": None, "cpu_s": None, "note": f"not loaded within {cap:.0f} s"}
        wall = time.perf_counter() - started
        if proc.returncode != 0:
            tail = out.decode(errors="replace").strip().splitlines()[-3:]
            return {"s": None, "cpu_s": None, "note": "failed: " + " / ".join(tail)[:300]}
        return {"s": wall, "cpu_s": _children_cpu() - cpu_before, "note": None}
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def dev_loaded(venv: Path, project: Path, pkg: str, cap: float) -> dict[str, Any]:
    """``dg dev --use-active-venv`` from start until GraphQL's ``workspaceOrError`` says the
    location is LOADED (polled every 0.25 s), or why not within `cap`."""
    home = Path(tempfile.mkdtemp(prefix="dg-scale-"))
    port = _free_port()
    probe = bench_run.dagster_probe({pkg})
    argv = [str(venv / "bin" / "dg"), "dev", "--use-active-venv", "--host", "127.0.0.1"]
    started = time.perf_counter()
    proc = subprocess.Popen(
        [*argv, "--port", str(port)],
        cwd=project,
        env=_env(venv, project, home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while time.perf_counter() - started < cap:
            if proc.poll() is not None:
                return {"s": None, "note": f"dg dev exited with code {proc.returncode}"}
            try:
                state = probe(port)
            except Exception:  # noqa: BLE001 - not answering yet
                state = None
            if state == "":
                return {"s": time.perf_counter() - started, "note": None}
            if state:
                return {"s": None, "note": f"failed: {state[:300]}"}
            time.sleep(0.25)
        return {"s": None, "note": f"not loaded within {cap:.0f} s"}
    finally:
        _stop(proc)
        shutil.rmtree(home, ignore_errors=True)


def measure(root: Path, n: int, cap: float) -> dict[str, Any]:
    """Dagster's loading rows for the ``layered`` project of `n` assets."""
    gen = bench_run.gen_project
    project = gen.generate(root, "dagster", "layered", n)
    venv = dagster_venv()
    # Bytecode written before timing, as bakehouse's warm-up run writes its own.
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "compileall", "-q", str(project / "src")],
        check=True,
    )
    checked = check_defs(venv, project, cap)
    dev = dev_loaded(venv, project, gen.package_name("layered", n), cap)
    return {
        "dagster_check_defs_s": checked["s"],
        "dagster_check_defs_cpu_s": checked["cpu_s"],
        "dagster_check_defs_note": checked["note"],
        "dagster_start_to_loaded_s": dev["s"],
        "dagster_start_to_loaded_note": dev["note"],
    }

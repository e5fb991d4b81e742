"""Host side of a code location: which interpreter runs it, fetching its snapshot, starting runs.

Imports no user code and no authoring API: everything it learns of a location comes back as
a snapshot over a pipe.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bakehouse.errors import ErrorInfo, LocationLoadError
from bakehouse.host import stuck
from bakehouse.host.load_clock import LoadClock
from bakehouse.project.code_server_settings import LoadLimit
from bakehouse.project.settings import ProjectSettings
from bakehouse.protocol.snapshot import LoadFailure, LocationSnap, loads
from bakehouse.protocol.wire import DEFAULT_EXECUTOR_ENV, DEFS_ERRORS_ENV, LOCATION_NAME_ENV


@dataclass(frozen=True, kw_only=True)
class LocationTarget:
    """How to start one code location's processes."""

    name: str
    python: str
    module: str
    defs_module: str
    root: Path
    source_dir: Path
    env: Mapping[str, str] = field(default_factory=dict)
    # The deployment's default executor (``[tool.bakehouse.executor]``): name and config.
    executor: Mapping[str, Any] | None = None
    # The project's ``defs_errors``: "isolate" or "fail" (`protocol.wire.DEFS_ERRORS_ENV`).
    defs_errors: str = "isolate"
    # How long it may take to load (``[tool.bakehouse.code_servers] local_startup_timeout``).
    load_limit: LoadLimit = field(default_factory=LoadLimit)

    def process_env(self) -> dict[str, str]:
        """The environment for the location's processes: the source folder on the import path,
        the location's name and the deployment's default executor."""
        env = dict(os.environ)
        env.update(self.env)
        env[LOCATION_NAME_ENV] = self.name
        if self.executor is not None:
            env[DEFAULT_EXECUTOR_ENV] = json.dumps(dict(self.executor))
        existing = env.get("PYTHONPATH")
        env["PYTHONPATH"] = (
            f"{self.source_dir}{os.pathsep}{existing}" if existing else str(self.source_dir)
        )
        env.setdefault("PYTHONUNBUFFERED", "1")
        # The code server and every run worker load the defs folder the same way, so a run
        # never meets a module its snapshot skipped, nor misses one it served.
        env[DEFS_ERRORS_ENV] = self.defs_errors
        return env

    def module_args(self) -> list[str]:
        """The arguments naming what to load."""
        args = ["--defs-module", self.defs_module]
        if self.module:
            args += ["--module", self.module]
        return args


def interpreter_for(settings: ProjectSettings) -> str:
    """The project's own ``.venv`` Python if it has one, else the one set in its settings, else
    the host's."""
    for candidate in (
        settings.root / ".venv" / "bin" / "python",
        settings.root / ".venv" / "Scripts" / "python.exe",
    ):
        if candidate.exists():
            return str(candidate)
    if settings.python:
        configured = Path(settings.python)
        return str(configured if configured.is_absolute() else settings.root / configured)
    return sys.executable


def target_for_project(
    settings: ProjectSettings, load_limit: LoadLimit | None = None
) -> LocationTarget:
    """The location a project defines, loading within `load_limit` (its workspace's) or the
    default limit."""
    return LocationTarget(
        name=settings.location_name,
        python=interpreter_for(settings),
        module=settings.definitions_module or "",
        defs_module=settings.defs_module,
        root=settings.root,
        source_dir=settings.source_dir,
        env=dict(settings.env),
        executor=settings.executor,
        defs_errors=settings.defs_errors,
        load_limit=load_limit or LoadLimit(),
    )


def _startup_failure(target: LocationTarget, detail: str) -> LoadFailure:
    hint = ""
    if "No module named bakehouse" in detail or "No module named 'bakehouse'" in detail:
        hint = (
            f"\nbakehouse is not installed for {target.python}: install it into the location's "
            "environment (pip install bakehouse) or remove its .venv to use the host's Python."
        )
    return LoadFailure(
        name=target.name,
        error=ErrorInfo(
            cls_name="LocationStartError",
            message=f"the code location process for '{target.name}' failed to start{hint}",
            stack=[detail[-4000:]] if detail else [],
        ),
        python_executable=target.python,
    )


def fetch_snapshot(
    target: LocationTarget, *, limit: LoadLimit | None = None
) -> LocationSnap | LoadFailure:
    """Load the location once in a subprocess of its own interpreter and return its snapshot.

    A process still loading after `limit` (else the target's) seconds of its own time
    (`load_clock`) is asked for its Python stack and killed; one that exits without a snapshot
    is reported with its exit code or signal.
    """
    cmd = [
        target.python,
        "-m",
        "bakehouse",
        "snapshot",
        "--name",
        target.name,
        *target.module_args(),
    ]
    try:
        proc = subprocess.Popen(
            cmd,
            cwd=target.root,
            env=target.process_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except FileNotFoundError:
        return _startup_failure(target, f"interpreter not found: {target.python}")
    clock = LoadClock(proc.pid, limit or target.load_limit)
    while True:
        try:
            # Retrying communicate after its timeout loses no output (subprocess docs).
            stdout, stderr = proc.communicate(timeout=clock.nap())
            break
        except subprocess.TimeoutExpired:
            if clock.expired():
                message = clock.timeout_message(target.name)
                stuck.dump_stack_and_kill(proc)
                stdout, stderr = proc.communicate()
                return _stuck_failure(target, message, stderr.decode(errors="replace"))
    out = stdout.decode(errors="replace").strip()
    if not out:
        detail = stderr.decode(errors="replace")
        if proc.returncode != 0 and "No module named" not in detail:
            return _exit_failure(target, proc.returncode, detail)
        return _startup_failure(target, detail)
    return loads(out)


def _stuck_failure(target: LocationTarget, message: str, stderr: str) -> LoadFailure:
    return _failure(target, "LocationLoadTimeout", message, stuck.stack_part(stderr))


def _exit_failure(target: LocationTarget, returncode: int, stderr: str) -> LoadFailure:
    message = (
        f"the code location process for '{target.name}' "
        f"{stuck.exit_description(returncode)} while loading"
    )
    return _failure(target, "LocationStartError", message, stderr[-4000:])


def _failure(target: LocationTarget, cls_name: str, message: str, stack: str) -> LoadFailure:
    return LoadFailure(
        name=target.name,
        error=ErrorInfo(cls_name=cls_name, message=message, stack=[stack] if stack else []),
        python_executable=target.python,
    )


def require_snapshot(target: LocationTarget) -> LocationSnap:
    """`fetch_snapshot`, raising `LocationLoadError` when the location fails to load."""
    snap = fetch_snapshot(target)
    if isinstance(snap, LoadFailure):
        raise LocationLoadError(target.name, snap.error)
    return snap


def spawn_run_worker(
    target: LocationTarget,
    *,
    run_id: str,
    storage_url: str,
    storage_dir: Path,
    log_path: Path,
    extra_args: list[str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start a run worker for `run_id` in the location's interpreter; its output goes to
    `log_path` (what user code prints)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        target.python,
        "-m",
        "bakehouse",
        "run-worker",
        "--run-id",
        run_id,
        "--storage-url",
        storage_url,
        "--storage-dir",
        str(storage_dir),
        *target.module_args(),
        *(extra_args or []),
    ]
    with log_path.open("ab") as log:
        return subprocess.Popen(
            cmd,
            cwd=target.root,
            env=target.process_env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

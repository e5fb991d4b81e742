"""The code server: loads one code location in its own interpreter and answers the host.

Started as ``<location python> -m bakehouse code-server ...``. It loads the user's code once,
then listens on loopback and answers a small versioned JSON protocol:

- ``GET /ping``: name, pid, status (LOADED, LOADED_WITH_ERRORS or FAILED), the protocol
  version, and the process's resident memory now and at its peak (bytes; None where the
  platform does not tell).
- ``GET /snapshot``: the `LocationSnap`, or the `LoadFailure` whose traceback says why not.
- ``POST /evaluate/schedule`` ``{"name", "scheduled_time"}`` and ``POST /evaluate/sensor``
  ``{"name", "cursor", "last_tick_at", "payload"}``: run requests, skip reason, new cursor, or
  the user's error, as data.
- ``POST /shutdown``: stop.

A failed import still starts the server, which then serves the failure as data. The server
exits by itself when its parent process dies or the host stops talking to it (heartbeat), so a
killed host leaves no code server behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bakehouse.protocol.snapshot import PROTOCOL_VERSION, LoadFailure, LocationSnap, dumps
from bakehouse.protocol.wire import READY_PREFIX


class _State:
    """What the handlers share: the loaded snapshot and when the host last called."""

    def __init__(self, name: str, defs: Any, snapshot: LocationSnap | LoadFailure) -> None:
        self.name = name
        self.defs = defs
        self.snapshot = snapshot
        self.snapshot_json = dumps(snapshot).encode()
        self.loaded_at = time.time()
        self.last_contact = time.monotonic()
        self.status = (
            "FAILED"
            if isinstance(snapshot, LoadFailure)
            else "LOADED_WITH_ERRORS"
            if snapshot.module_errors
            else "LOADED"
        )


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the host keeps the code server's stderr for errors only."""

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        self._send(status, json.dumps(payload).encode())

    def do_GET(self) -> None:
        state = self.server.state
        state.last_contact = time.monotonic()
        if self.path == "/ping":
            self._json(
                200,
                {
                    "protocol": PROTOCOL_VERSION,
                    "name": state.name,
                    "pid": os.getpid(),
                    "status": state.status,
                    "loaded_at": state.loaded_at,
                    **_memory(),
                },
            )
        elif self.path == "/snapshot":
            self._send(200, state.snapshot_json)
        else:
            self._json(404, {"error": f"unknown path {self.path}"})

    def do_POST(self) -> None:
        state = self.server.state
        state.last_contact = time.monotonic()
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path == "/shutdown":
            self._json(200, {"stopping": True})
            threading.Thread(target=self.server.shutdown, daemon=True).start()
            return
        if self.path not in ("/evaluate/schedule", "/evaluate/sensor"):
            self._json(404, {"error": f"unknown path {self.path}"})
            return
        try:
            body = json.loads(raw or b"{}")
            if not isinstance(body, dict) or not isinstance(body.get("name"), str):
                raise ValueError("the body must be a JSON object with a 'name'")
        except ValueError as exc:
            self._json(400, {"error": str(exc)})
            return
        if state.defs is None:
            self._json(409, {"error": f"location '{state.name}' failed to load"})
            return
        from bakehouse.codeserver.evaluate import evaluate_schedule, evaluate_sensor

        if self.path == "/evaluate/schedule":
            answer = evaluate_schedule(
                state.defs, body["name"], float(body.get("scheduled_time") or time.time())
            )
        else:
            answer = evaluate_sensor(
                state.defs,
                body["name"],
                cursor=body.get("cursor"),
                last_tick_at=body.get("last_tick_at"),
                payload=body.get("payload") or {},
            )
        self._json(200, answer)


def _memory() -> dict[str, int | None]:
    """This process's resident memory now and at its peak, in bytes: VmRSS and VmHWM from Linux's
    /proc (getrusage's peak elsewhere; on Linux it carries the parent's over the exec)."""
    found: dict[str, int] = {}
    with contextlib.suppress(OSError, ValueError, IndexError), open("/proc/self/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                found[name] = int(value.split()[0]) * 1024  # kB
    if "VmRSS" in found:
        return {"rss_bytes": found["VmRSS"], "peak_rss_bytes": found.get("VmHWM")}
    peak: int | None = None
    with contextlib.suppress(ImportError, OSError):
        import resource

        # Kilobytes on Linux, bytes on macOS.
        scale = 1 if sys.platform == "darwin" else 1024
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
    return {"rss_bytes": None, "peak_rss_bytes": peak}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: _State) -> None:
        super().__init__(address, _Handler)
        self.state = state


def _watch(server: _Server, parent_pid: int | None, heartbeat_timeout: float) -> None:
    """Stop the server when the parent dies or the host has been silent too long."""
    while True:
        time.sleep(0.5)
        orphaned = parent_pid is not None and os.getppid() != parent_pid
        silent = time.monotonic() - server.state.last_contact > heartbeat_timeout
        if orphaned or silent:
            reason = "its parent process exited" if orphaned else "the host stopped calling"
            # The host may be gone with the read end of our stderr pipe: saying why must not
            # stop us from stopping.
            with contextlib.suppress(OSError):
                print(f"code server '{server.state.name}' stopping: {reason}", file=sys.stderr)
            server.shutdown()
            return


def serve(
    *,
    name: str,
    module: str,
    defs_module: str | None,
    host: str = "127.0.0.1",
    port: int = 0,
    heartbeat_timeout: float = 60.0,
    parent_pid: int | None = None,
) -> int:
    """Load the location, then serve until told to stop. Returns the process exit code."""
    # User code may print while loading; stdout carries only the ready line.
    real_stdout = sys.stdout
    sys.stdout = sys.stderr
    from bakehouse.codeserver.lifetime import keep_for_the_process
    from bakehouse.codeserver.loader import load_location

    defs, snapshot = load_location(module, name=name, defs_module=defs_module)
    keep_for_the_process()  # this process serves these definitions until it exits
    state = _State(name, defs, snapshot)
    server = _Server((host, port), state)
    bound_host, bound_port = server.server_address[:2]
    ready = {"host": bound_host, "port": bound_port, "pid": os.getpid(), "status": state.status}
    real_stdout.write(READY_PREFIX + json.dumps(ready) + "\n")
    real_stdout.flush()
    threading.Thread(
        target=_watch, args=(server, parent_pid, heartbeat_timeout), daemon=True
    ).start()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0

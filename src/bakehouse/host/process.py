"""Host side of one code server process: start it, talk to it, stop it.

The host learns the server's port from the ready line it prints, then speaks the JSON protocol
of `bakehouse.codeserver.server` over loopback HTTP. The server's stderr is kept (its tail) so a
crash can be shown with what the process said.
"""

from __future__ import annotations

import collections
import contextlib
import http.client
import json
import os
import selectors
import subprocess
import threading
from dataclasses import replace
from typing import Any

from bakehouse.errors import ErrorInfo, ProtocolError
from bakehouse.host import stuck
from bakehouse.host.client import LocationTarget
from bakehouse.host.load_clock import LoadClock
from bakehouse.protocol.snapshot import READABLE_PROTOCOLS, LoadFailure, LocationSnap, loads
from bakehouse.protocol.wire import READY_PREFIX

STDERR_LINES = 200


class CodeServerStartError(Exception):
    """Raised when a code server process exits or stalls before it is ready."""

    def __init__(self, message: str, stderr_tail: str) -> None:
        self.stderr_tail = stderr_tail
        super().__init__(message)

    def to_error_info(self) -> ErrorInfo:
        """The failure as data, with what the process wrote to stderr."""
        stack = [self.stderr_tail] if self.stderr_tail else []
        return ErrorInfo(cls_name="CodeServerStartError", message=str(self), stack=stack)


class CodeServerProcess:
    """One running code server for one location."""

    def __init__(self, target: LocationTarget, *, heartbeat_timeout: float = 60.0) -> None:
        self.target = target
        self.heartbeat_timeout = heartbeat_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.host = "127.0.0.1"
        self.port: int | None = None
        self._stderr: collections.deque[str] = collections.deque(maxlen=STDERR_LINES)
        self._stderr_thread: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        """The server's process id once started."""
        return self.proc.pid if self.proc else None

    def start(self, *, timeout: float | None = None) -> LocationSnap | LoadFailure:
        """Start the server, wait until it has loaded the code, and return what it loaded.

        Raises `CodeServerStartError` if it dies, or is still loading after `timeout` (else the
        target's limit) seconds of its own time (`load_clock`).
        """
        cmd = [
            self.target.python, "-m", "bakehouse", "code-server",
            "--name", self.target.name,
            "--heartbeat-timeout", str(self.heartbeat_timeout),
            "--parent-pid", str(os.getpid()),
            *self.target.module_args(),
        ]  # fmt: skip
        try:
            self.proc = subprocess.Popen(
                cmd,
                cwd=self.target.root,
                env=self.target.process_env(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except OSError as exc:
            raise CodeServerStartError(
                f"cannot start {self.target.python} for location '{self.target.name}': {exc}", ""
            ) from None
        assert self.proc.stderr is not None
        self._stderr_thread = threading.Thread(
            target=self._drain_stderr, args=(self.proc.stderr,), daemon=True
        )
        self._stderr_thread.start()
        limit = self.target.load_limit
        if timeout is not None:
            limit = replace(limit, seconds=timeout)
        ready = self._read_ready_line(LoadClock(self.proc.pid, limit))
        self.host, self.port = str(ready["host"]), int(ready["port"])
        return self.snapshot()

    def _drain_stderr(self, stream: Any) -> None:
        for raw in iter(stream.readline, b""):
            self._stderr.append(raw.decode(errors="replace"))
        stream.close()

    def _read_ready_line(self, clock: LoadClock) -> dict[str, Any]:
        assert self.proc is not None
        assert self.proc.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(self.proc.stdout, selectors.EVENT_READ)
        buffer = b""
        ended = False  # stdout closed or the process exited: it is gone, not slow
        try:
            while not clock.expired():
                if selector.select(timeout=min(clock.nap(), 0.1)):
                    chunk = os.read(self.proc.stdout.fileno(), 65536)
                    if not chunk:
                        ended = True
                        break
                    buffer += chunk
                    for line in buffer.decode(errors="replace").splitlines():
                        if line.startswith(READY_PREFIX):
                            value: dict[str, Any] = json.loads(line[len(READY_PREFIX) :])
                            return value
                elif self.proc.poll() is not None:
                    ended = True
                    break
        finally:
            selector.close()
        code = self._exit_code_after_eof() if ended else None
        if code is None:
            stuck.dump_stack_and_kill(self.proc)
        self.kill()
        self.wait_stderr()
        if code is None:
            raise CodeServerStartError(
                clock.timeout_message(self.target.name),
                stuck.stack_part(self.stderr_tail(STDERR_LINES)),
            )
        tail = self.stderr_tail()
        hint = ""
        if "No module named bakehouse" in tail:
            hint = f" (bakehouse is not installed for {self.target.python})"
        raise CodeServerStartError(
            f"the code server of '{self.target.name}' {stuck.exit_description(code)} while "
            f"loading, before it was ready{hint}",
            tail,
        )

    def _exit_code_after_eof(self) -> int | None:
        """The exit code of a server whose stdout ended (it is exiting: give it a moment to
        finish), or None for one still running."""
        assert self.proc is not None
        try:
            return self.proc.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            return None

    def wait_stderr(self, timeout: float = 2.0) -> None:
        """Wait until the process's stderr has been read to its end (after it exited)."""
        if self._stderr_thread is not None:
            self._stderr_thread.join(timeout)

    def stderr_tail(self, lines: int = 40) -> str:
        """The last lines the server wrote to stderr."""
        return "".join(list(self._stderr)[-lines:])

    def _request(
        self, method: str, path: str, timeout: float = 10.0, body: bytes | None = None
    ) -> bytes:
        if self.port is None:
            raise ProtocolError(f"code server of '{self.target.name}' is not started")
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            headers = {"Content-Type": "application/json"} if body else {}
            conn.request(
                method,
                path,
                body=body if body is not None else (b"" if method == "POST" else None),
                headers=headers,
            )
            response = conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise ProtocolError(
                f"code server of '{self.target.name}' did not answer: {exc}"
            ) from exc
        finally:
            conn.close()
        if response.status != 200:
            raise ProtocolError(
                f"code server of '{self.target.name}' answered {response.status} to {path}"
            )
        return body

    def ping(self, timeout: float = 5.0) -> dict[str, Any]:
        """The server's status; raises `ProtocolError` if it does not answer properly."""
        data = json.loads(self._request("GET", "/ping", timeout))
        if not isinstance(data, dict) or data.get("protocol") not in READABLE_PROTOCOLS:
            raise ProtocolError(f"code server of '{self.target.name}' speaks another protocol")
        return data

    def snapshot(self) -> LocationSnap | LoadFailure:
        """What the server loaded."""
        return loads(self._request("GET", "/snapshot", timeout=60.0).decode())

    def evaluate_schedule(self, name: str, scheduled_time: float) -> dict[str, Any]:
        """Ask the location what schedule `name` requests for the tick at `scheduled_time`."""
        return self._post_json(
            "/evaluate/schedule", {"name": name, "scheduled_time": scheduled_time}
        )

    def evaluate_sensor(
        self,
        name: str,
        *,
        cursor: str | None,
        last_tick_at: float | None,
        payload: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Ask the location to evaluate sensor `name` once."""
        return self._post_json(
            "/evaluate/sensor",
            {
                "name": name,
                "cursor": cursor,
                "last_tick_at": last_tick_at,
                "payload": payload or {},
            },
        )

    def _post_json(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        # User code runs during an evaluation: allow it the time a slow sensor takes.
        answer = json.loads(
            self._request("POST", path, timeout=300.0, body=json.dumps(body).encode())
        )
        if not isinstance(answer, dict):
            raise ProtocolError(f"code server of '{self.target.name}' answered {answer!r}")
        return answer

    def alive(self) -> bool:
        """True while the process runs."""
        return self.proc is not None and self.proc.poll() is None

    def returncode(self) -> int | None:
        """The exit code once it has exited."""
        return self.proc.poll() if self.proc else None

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the server to stop; terminate, then kill, if it does not."""
        if not self.alive():
            self._reap()
            return
        with contextlib.suppress(ProtocolError):
            self._request("POST", "/shutdown", timeout=2.0)
        assert self.proc is not None
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._reap()

    def kill(self) -> None:
        """Kill the process now."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._reap()

    def _reap(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                return
            if self.proc.stdout is not None:
                self.proc.stdout.close()

"""The host's location supervisor: one code server per location, their states, reloads, healing.

Every location starts in parallel. A location whose code fails to import is FAILED with the
traceback; the others serve on. A reload starts a new server and swaps it in only if it loaded;
if it did not, the location shows the error while its last good definitions keep serving. A
server that dies is noticed by the heartbeat and restarted with back-off. The set of locations
can change while it runs (`set_targets`: the workspace file was read again).
"""

from __future__ import annotations

import enum
import hashlib
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from bakehouse import serdes
from bakehouse.errors import ErrorInfo, ProtocolError
from bakehouse.host import key_clashes
from bakehouse.host.client import LocationTarget
from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.host.process import CodeServerProcess, CodeServerStartError
from bakehouse.protocol.snapshot import LoadFailure, LocationSnap, dumps


class LocationStatus(str, enum.Enum):
    """Where a location is: loading its code, serving it, or failed to."""

    LOADING = "LOADING"
    LOADED = "LOADED"
    FAILED = "FAILED"


@dataclass(frozen=True, kw_only=True)
class LocationState:
    """A location as the host shows it. Immutable: the supervisor swaps whole states."""

    name: str
    status: LocationStatus
    updated_at: float
    snapshot: LocationSnap | None = None
    error: ErrorInfo | None = None
    # True when a reload failed and `snapshot` is the last good one, still serving.
    serving_last_good: bool = False
    # True when the latest load of the location's files failed (not when its server died):
    # its files no longer load, whatever snapshot still serves.
    load_failed: bool = False
    pid: int | None = None
    version: str | None = None
    python_version: str | None = None
    restarts: int = 0

    @property
    def asset_count(self) -> int:
        """Assets the location materializes."""
        return sum(1 for a in self.snapshot.assets if not a.is_external) if self.snapshot else 0


def snapshot_version(snapshot: LocationSnap) -> str:
    """A short digest of what the location defines; it changes when the definitions change."""
    body = dumps(serdes.replace(snapshot, load_seconds=0.0, packages={}))
    return hashlib.sha256(body.encode()).hexdigest()[:12]


Listener = Callable[[LocationState], None]


@dataclass(frozen=True, kw_only=True)
class LocationChanges:
    """What a new set of locations changed: names added, removed, and served another way."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()


class LocationSupervisor:
    """Starts, watches, reloads and stops the code servers of a workspace."""

    def __init__(
        self,
        targets: Iterable[LocationTarget],
        *,
        heartbeat_interval: float = 2.0,
        heartbeat_timeout: float = 60.0,
        load_timeout: float = 300.0,
        max_backoff: float = 30.0,
        allow_duplicate_asset_keys: bool = False,
    ) -> None:
        self.targets = {t.name: t for t in targets}
        # False: a location defining a key another loaded location defines fails to load.
        self.allow_duplicate_asset_keys = allow_duplicate_asset_keys
        # Held from a location's duplicate key check to its LOADED state, so that of two
        # locations finishing at once the second sees the first.
        self._placing = threading.Lock()
        self.heartbeat_interval = heartbeat_interval
        self.heartbeat_timeout = heartbeat_timeout
        self.load_timeout = load_timeout
        self.max_backoff = max_backoff
        self._lock = threading.RLock()
        self._states: dict[str, LocationState] = {
            name: LocationState(name=name, status=LocationStatus.LOADING, updated_at=time.time())
            for name in self.targets
        }
        self._servers: dict[str, CodeServerProcess] = {}
        # One reload at a time per location; different locations reload in parallel.
        self._reload_locks = {name: threading.Lock() for name in self.targets}
        self._listeners: list[Listener] = []
        self._stopping = threading.Event()
        self._monitor: threading.Thread | None = None
        self._loaders: list[threading.Thread] | None = None
        self._failures: dict[str, int] = dict.fromkeys(self.targets, 0)
        self._next_restart: dict[str, float] = {}

    # -- observing ---------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        """Call `listener` with each new state of any location (from supervisor threads)."""
        self._listeners.append(listener)

    def states(self) -> list[LocationState]:
        """Every location's current state, by name."""
        with self._lock:
            return [self._states[name] for name in sorted(self._states)]

    def state(self, name: str) -> LocationState:
        """One location's state; `KeyError` if there is no such location."""
        with self._lock:
            return self._states[name]

    def snapshots(self) -> list[LocationSnap]:
        """The snapshots serving now (the last good one of a location whose reload failed)."""
        return [s.snapshot for s in self.states() if s.snapshot is not None]

    def global_graph(self) -> GlobalAssetGraph:
        """All serving locations merged into one asset graph; those serving their last good
        snapshot after a failed load are marked stale with the failure's message."""
        states = self.states()
        return GlobalAssetGraph(
            [s.snapshot for s in states if s.snapshot is not None],
            stale={
                s.name: s.error.message if s.error is not None else "its latest load failed"
                for s in states
                if s.snapshot is not None and s.load_failed
            },
        )

    def server(self, name: str) -> CodeServerProcess | None:
        """The code server serving `name`, if any."""
        with self._lock:
            return self._servers.get(name)

    def _set(self, state: LocationState) -> None:
        with self._lock:
            if state.name not in self.targets:
                return  # removed from the workspace while it loaded
            self._states[state.name] = state
        for listener in list(self._listeners):
            listener(state)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, *, wait: bool = True) -> None:
        """Start every location in parallel, then the heartbeat monitor.

        Calling it again only waits (if `wait`): ``bh dev`` starts the supervisor before it
        imports the web stack, then hands it to a `Deployment`, which starts it again.
        """
        if self._loaders is None:
            self._loaders = [
                threading.Thread(target=self.reload, args=(name,), name=f"load-{name}", daemon=True)
                for name in self.targets
            ]
            for thread in self._loaders:
                thread.start()
            self._monitor = threading.Thread(target=self._watch, name="heartbeat", daemon=True)
            self._monitor.start()
        if wait:
            for thread in self._loaders:
                thread.join()

    def reload(self, name: str) -> LocationState:
        """Load `name` anew in a new server; swap it in if it loaded, else keep the last good.

        Blocks until the new server has loaded (or failed to).
        """
        with self._reload_locks[name]:
            target = self.targets[name]  # read under the lock: the newest way to start it
            previous = self.state(name)
            self._set(replace(previous, status=LocationStatus.LOADING, updated_at=time.time()))
            server = CodeServerProcess(target, heartbeat_timeout=self.heartbeat_timeout)
            try:
                loaded: LocationSnap | LoadFailure = server.start(timeout=self.load_timeout)
            except (CodeServerStartError, ProtocolError) as exc:
                server.kill()
                error = (
                    exc.to_error_info()
                    if isinstance(exc, CodeServerStartError)
                    else ErrorInfo.from_exception(exc)
                )
                loaded = LoadFailure(name=name, error=error, python_executable=target.python)
            self._placing.acquire()
            try:
                if isinstance(loaded, LocationSnap) and not self.allow_duplicate_asset_keys:
                    others = [st.snapshot for st in self.states() if st.name != name]
                    found = key_clashes.clashes(loaded, [o for o in others if o is not None])
                    if found:
                        loaded = LoadFailure(
                            name=name,
                            error=key_clashes.load_error(found),
                            python_executable=target.python,
                            python_version=loaded.python_version,
                        )
                return self._settle(name, target, previous, server, loaded)
            finally:
                self._placing.release()

    def _settle(
        self,
        name: str,
        target: LocationTarget,
        previous: LocationState,
        server: CodeServerProcess,
        loaded: LocationSnap | LoadFailure,
    ) -> LocationState:
        """Record what loading `name` gave: FAILED (the last good still serving), or LOADED with
        `server` swapped in for the old one."""
        if isinstance(loaded, LoadFailure):
            if server.alive():
                server.stop()
            state = replace(
                previous,
                status=LocationStatus.FAILED,
                updated_at=time.time(),
                error=loaded.error,
                serving_last_good=previous.snapshot is not None,
                load_failed=True,
                python_version=loaded.python_version or previous.python_version,
            )
            self._set(state)
            return state
        with self._lock:
            removed = name not in self.targets
            old = None if removed else self._servers.get(name)
            if not removed:
                self._servers[name] = server
                self._failures[name] = 0
                self._next_restart.pop(name, None)
        if removed:  # the workspace dropped it while it loaded: nothing serves it
            server.stop()
        state = LocationState(
            name=name,
            status=LocationStatus.LOADED,
            updated_at=time.time(),
            snapshot=loaded,
            pid=server.pid,
            version=snapshot_version(loaded),
            python_version=loaded.python_version,
            restarts=previous.restarts,
        )
        self._set(state)
        if old is not None:
            old.stop()
        return state

    def set_targets(self, targets: Iterable[LocationTarget]) -> LocationChanges:
        """Serve the locations `targets` from now on.

        A new location is listed LOADING (the caller loads it with `reload`); one no longer
        there is dropped and its server stopped; one whose target changed (another Python, say)
        keeps serving its definitions until it is reloaded, which starts it the new way.
        """
        wanted = {t.name: t for t in targets}
        with self._lock:
            added = sorted(n for n in wanted if n not in self.targets)
            removed = sorted(n for n in self.targets if n not in wanted)
            changed = sorted(
                n for n in wanted if n in self.targets and self.targets[n] != wanted[n]
            )
            for name in removed:
                del self.targets[name]
                del self._states[name]
                self._failures.pop(name, None)
                self._next_restart.pop(name, None)
            for name in (*added, *changed):
                self.targets[name] = wanted[name]
            for name in added:
                self._states[name] = LocationState(
                    name=name, status=LocationStatus.LOADING, updated_at=time.time()
                )
                self._reload_locks[name] = threading.Lock()
                self._failures[name] = 0
            gone = [s for s in (self._servers.pop(n, None) for n in removed) if s is not None]
        for server in gone:
            server.stop()
        return LocationChanges(added=tuple(added), removed=tuple(removed), changed=tuple(changed))

    def reload_all(self) -> list[LocationState]:
        """Reload every location in parallel; returns their new states."""
        results: dict[str, LocationState] = {}

        def run(name: str) -> None:
            results[name] = self.reload(name)

        threads = [threading.Thread(target=run, args=(n,), daemon=True) for n in list(self.targets)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return [results[n] for n in sorted(results)]

    def _watch(self) -> None:
        while not self._stopping.wait(self.heartbeat_interval):
            for name in list(self.targets):
                if self._stopping.is_set():
                    return
                self._check(name)

    def _check(self, name: str) -> None:
        server = self.server(name)
        if server is None or name not in self.targets or self._reload_locks[name].locked():
            return
        try:
            server.ping(timeout=5.0)
            return
        except ProtocolError:
            pass
        now = time.time()
        due = self._next_restart.get(name)
        if due is None:
            # First time seen dead: record why, and schedule a restart with back-off.
            server.kill()
            server.wait_stderr()
            code = server.returncode()
            self._failures[name] = self._failures.get(name, 0) + 1
            delay = min(self.max_backoff, 2 ** (self._failures[name] - 1))
            self._next_restart[name] = now + delay
            state = self.state(name)
            tail = server.stderr_tail()
            error = ErrorInfo(
                cls_name="CodeServerDied",
                message=(
                    f"the code server of '{name}' (pid {server.pid}) stopped answering"
                    + (f" and exited with code {code}" if code is not None else "")
                    + f"; restarting in {delay:.0f} s"
                ),
                stack=[tail] if tail else [],
            )
            self._set(
                replace(
                    state,
                    status=LocationStatus.FAILED,
                    updated_at=now,
                    error=error,
                    serving_last_good=state.snapshot is not None,
                    pid=None,
                )
            )
        elif now >= due:
            self._next_restart.pop(name, None)
            state = self.state(name)
            self._set(replace(state, restarts=state.restarts + 1))
            result = self.reload(name)
            if result.status == LocationStatus.FAILED:
                # Keep backing off until a restart succeeds.
                self._failures[name] = self._failures.get(name, 0) + 1
                delay = min(self.max_backoff, 2 ** (self._failures[name] - 1))
                self._next_restart[name] = time.time() + delay

    def stop(self) -> None:
        """Stop the monitor and every code server."""
        self._stopping.set()
        if self._monitor is not None:
            self._monitor.join(timeout=10)
        with self._lock:
            servers = list(self._servers.values())
            self._servers.clear()
        threads = [threading.Thread(target=s.stop, daemon=True) for s in servers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=15)

    def __enter__(self) -> LocationSupervisor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

"""The host's location supervisor: one code server per location, their states, reloads, healing.

Every location starts in parallel. A location whose code fails to import is FAILED with the
traceback; the others serve on. A reload starts a new server and swaps it in only if it loaded;
if it did not, the location shows the error while its last good definitions keep serving. A
server that dies is noticed by the heartbeat and restarted with back-off. The set of locations
can change while it runs (`set_targets`: the workspace file was read again).

Each reload gives a `ReloadRecord` (what asked for it, the definitions diff against what served
before, or the error; load time and memory) to the reload listeners, which keep the history.
"""

from __future__ import annotations

import enum
import hashlib
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from bakehouse import serdes
from bakehouse.errors import ErrorInfo, ProtocolError
from bakehouse.host import key_clashes, stuck
from bakehouse.host.client import LocationTarget
from bakehouse.host.definitions_diff import diff_snapshots
from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.host.module_errors import with_missing_assets
from bakehouse.host.process import CodeServerProcess, CodeServerStartError
from bakehouse.protocol.snapshot import LoadFailure, LocationSnap, dumps
from bakehouse.storage.reload_records import ReloadRecord

# Packages whose versions a location's health shows when its Python has them.
KEY_PACKAGES = (
    "pandas",
    "polars",
    "pyarrow",
    "duckdb",
    "dbt-core",
    "sqlalchemy",
    "pydantic",
    "numpy",
)


class LocationStatus(str, enum.Enum):
    """Where a location is: loading its code, serving it, or failed to."""

    LOADING = "LOADING"
    LOADED = "LOADED"
    # Loaded and serving, but some modules of its defs folder failed and were left out
    # (``defs_errors = "isolate"``): `LocationSnap.module_errors` says which and why.
    LOADED_WITH_ERRORS = "LOADED_WITH_ERRORS"
    FAILED = "FAILED"

    @property
    def is_serving(self) -> bool:
        """Loaded, with or without module errors: its definitions serve and can run."""
        return self in (LocationStatus.LOADED, LocationStatus.LOADED_WITH_ERRORS)


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
    # Health: the last good load's time in its code server; that server's resident memory
    # (the heartbeat's latest answer) and its peak; how and when a server last exited unasked.
    load_seconds: float | None = None
    rss_bytes: int | None = None
    peak_rss_bytes: int | None = None
    last_exit: str | None = None
    last_exit_at: float | None = None
    # The latest reload: what asked for it, and its diff or error.
    last_reload: ReloadRecord | None = None

    @property
    def asset_count(self) -> int:
        """Assets the location materializes."""
        return sum(1 for a in self.snapshot.assets if not a.is_external) if self.snapshot else 0

    @property
    def package_versions(self) -> dict[str, str]:
        """bakehouse's version and those of the `KEY_PACKAGES` its Python has, as its code
        server reported them."""
        if self.snapshot is None:
            return {}
        found = {"bakehouse": self.snapshot.bakehouse_version}
        packages = self.snapshot.packages
        found.update({name: packages[name] for name in KEY_PACKAGES if name in packages})
        return found


def exit_reason(returncode: int | None) -> str:
    """How a process ended, in a word or two: the signal's name ("SIGKILL") or "exit code 3"."""
    if returncode is None:
        return "unknown"
    description = stuck.exit_description(returncode)
    return description.removeprefix("was killed by signal ").removeprefix("exited with ")


def snapshot_version(snapshot: LocationSnap) -> str:
    """A short digest of what the location defines; it changes when the definitions change."""
    body = dumps(serdes.replace(snapshot, load_seconds=0.0, packages={}))
    return hashlib.sha256(body.encode()).hexdigest()[:12]


Listener = Callable[[LocationState], None]
ReloadListener = Callable[[ReloadRecord], None]


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
        load_timeout: float | None = None,
        max_backoff: float = 30.0,
        allow_duplicate_asset_keys: bool = False,
        hang_timeout: float = 30.0,
    ) -> None:
        self.targets = {t.name: t for t in targets}
        # False: a location defining a key another loaded location defines fails to load.
        self.allow_duplicate_asset_keys = allow_duplicate_asset_keys
        # Held from a location's duplicate key check to its LOADED state, so that of two
        # locations finishing at once the second sees the first.
        self._placing = threading.Lock()
        self.heartbeat_interval = heartbeat_interval
        self.heartbeat_timeout = heartbeat_timeout
        # Seconds each location may take to load; None: each target's own limit.
        self.load_timeout = load_timeout
        self.max_backoff = max_backoff
        # A server still running that has not answered a ping for this long is hung; one slow
        # ping on a loaded machine is not (a ping waits 5 s: at load 25 that is not enough).
        self.hang_timeout = hang_timeout
        self._answered: dict[str, float] = {}
        self._lock = threading.RLock()
        self._states: dict[str, LocationState] = {
            name: LocationState(name=name, status=LocationStatus.LOADING, updated_at=time.time())
            for name in self.targets
        }
        self._servers: dict[str, CodeServerProcess] = {}
        # The merged graph and what it was built from (each serving snapshot, by identity, and
        # its staleness): merging 20,000 assets costs seconds, and pages ask for it per request.
        self._graph: tuple[list[tuple[Any, ...]], GlobalAssetGraph] | None = None
        # One reload at a time per location; different locations reload in parallel.
        self._reload_locks = {name: threading.Lock() for name in self.targets}
        self._listeners: list[Listener] = []
        self._reload_listeners: list[ReloadListener] = []
        # Reloads finished before anybody listened (``bh dev`` loads before its deployment
        # exists): handed to the first reload listener.
        self._unheard: list[ReloadRecord] = []
        self._stopping = threading.Event()
        self._monitor: threading.Thread | None = None
        self._loaders: list[threading.Thread] | None = None
        self._failures: dict[str, int] = dict.fromkeys(self.targets, 0)
        self._next_restart: dict[str, float] = {}

    # -- observing ---------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        """Call `listener` with each new state of any location (from supervisor threads)."""
        self._listeners.append(listener)

    def subscribe_reloads(self, listener: ReloadListener) -> None:
        """Call `listener` with each finished reload (from supervisor threads); the first one
        also hears the reloads finished before it subscribed."""
        with self._lock:
            self._reload_listeners.append(listener)
            unheard, self._unheard = self._unheard, []
        for record in unheard:
            listener(record)

    def _reloaded(self, record: ReloadRecord) -> None:
        with self._lock:
            listeners = list(self._reload_listeners)
            if not listeners:
                self._unheard.append(record)
        for listener in listeners:
            listener(record)

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
        stale = {
            s.name: s.error.message if s.error is not None else "its latest load failed"
            for s in states
            if s.snapshot is not None and s.load_failed
        }
        made_of = [(s.name, s.snapshot, stale.get(s.name)) for s in states if s.snapshot]
        cached = self._graph
        if cached is not None and _same(cached[0], made_of):
            return cached[1]
        graph = GlobalAssetGraph([snapshot for _, snapshot, _ in made_of], stale=stale)
        self._graph = (made_of, graph)
        return graph

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
                threading.Thread(
                    target=self.reload,
                    args=(name,),
                    kwargs={"trigger": "startup"},
                    name=f"load-{name}",
                    daemon=True,
                )
                for name in self.targets
            ]
            for thread in self._loaders:
                thread.start()
            self._monitor = threading.Thread(target=self._watch, name="heartbeat", daemon=True)
            self._monitor.start()
        if wait:
            for thread in self._loaders:
                thread.join()

    def reload(
        self,
        name: str,
        *,
        trigger: str = "api",
        actor: str | None = None,
        reason: str | None = None,
    ) -> LocationState:
        """Load `name` anew in a new server; swap it in if it loaded, else keep the last good.

        Blocks until the new server has loaded (or failed to). `trigger` (a key of
        `reload_records.TRIGGERS`), `actor` (who asked) and `reason` (why a restart was needed)
        go into the reload's record.
        """
        with self._reload_locks[name]:
            started = time.time()
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
            memory = _memory(server)
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
                record = ReloadRecord(
                    location=name,
                    started_at=started,
                    trigger=trigger,
                    actor=actor,
                    reason=reason,
                    loaded=isinstance(loaded, LocationSnap),
                    diff=(
                        diff_snapshots(previous.snapshot, loaded)
                        if isinstance(loaded, LocationSnap) and previous.snapshot is not None
                        else None
                    ),
                    error=loaded.error if isinstance(loaded, LoadFailure) else None,
                    module_errors=loaded.module_errors if isinstance(loaded, LocationSnap) else (),
                    load_seconds=loaded.load_seconds if isinstance(loaded, LocationSnap) else None,
                    wall_seconds=round(time.time() - started, 4),
                    rss_bytes=memory[0],
                    peak_rss_bytes=memory[1],
                    version=snapshot_version(loaded) if isinstance(loaded, LocationSnap) else None,
                )
                settled = self._settle(name, target, previous, server, loaded, record, memory)
            finally:
                self._placing.release()
        self._reloaded(record)
        return settled

    def _settle(
        self,
        name: str,
        target: LocationTarget,
        previous: LocationState,
        server: CodeServerProcess,
        loaded: LocationSnap | LoadFailure,
        record: ReloadRecord,
        memory: tuple[int | None, int | None],
    ) -> LocationState:
        """Record what loading `name` gave: FAILED (the last good still serving), or LOADED (or
        LOADED_WITH_ERRORS: some defs modules left out) with `server` swapped in for the old
        one."""
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
                last_reload=record,
            )
            self._set(state)
            return state
        with self._lock:
            # Dropped from the workspace, or the supervisor stopped, while it loaded.
            removed = name not in self.targets or self._stopping.is_set()
            old = None if removed else self._servers.get(name)
            if not removed:
                self._servers[name] = server
                self._answered[name] = time.time()
                self._failures[name] = 0
                self._next_restart.pop(name, None)
        if removed:  # nothing serves it
            server.stop()
        loaded = with_missing_assets(loaded, previous.snapshot)
        state = LocationState(
            name=name,
            status=LocationStatus.LOADED_WITH_ERRORS
            if loaded.module_errors
            else LocationStatus.LOADED,
            updated_at=time.time(),
            snapshot=loaded,
            pid=server.pid,
            version=snapshot_version(loaded),
            python_version=loaded.python_version,
            restarts=previous.restarts,
            load_seconds=loaded.load_seconds,
            rss_bytes=memory[0],
            peak_rss_bytes=memory[1],
            last_exit=previous.last_exit,
            last_exit_at=previous.last_exit_at,
            last_reload=record,
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
                self._answered.pop(name, None)
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

    def reload_all(self, *, actor: str | None = None) -> list[LocationState]:
        """Reload every location in parallel (asked by `actor`); returns their new states."""
        results: dict[str, LocationState] = {}

        def run(name: str) -> None:
            results[name] = self.reload(name, trigger="reload_all", actor=actor)

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
            answer = server.ping(timeout=5.0)
        except ProtocolError:
            pass
        else:
            self._answered[name] = time.time()
            self._note_memory(name, server, answer)
            return
        now = time.time()
        due = self._next_restart.get(name)
        if due is None:
            hung = server.alive()
            if hung and now - self._answered.setdefault(name, now) < self.hang_timeout:
                return  # slow to answer, not gone: ask again at the next beat
            # First time seen dead: record why, and schedule a restart with back-off.
            server.kill()
            server.wait_stderr()
            code = server.returncode()
            reason = "stopped answering" if hung else exit_reason(code)
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
                    rss_bytes=None,
                    last_exit=reason,
                    last_exit_at=now,
                )
            )
        elif now >= due:
            self._next_restart.pop(name, None)
            state = self.state(name)
            self._set(replace(state, restarts=state.restarts + 1))
            result = self.reload(name, trigger="restart", reason=state.last_exit)
            if result.status == LocationStatus.FAILED:
                # Keep backing off until a restart succeeds.
                self._failures[name] = self._failures.get(name, 0) + 1
                delay = min(self.max_backoff, 2 ** (self._failures[name] - 1))
                self._next_restart[name] = time.time() + delay

    def _note_memory(self, name: str, server: CodeServerProcess, ping: dict[str, object]) -> None:
        """Keep what the heartbeat's answer says of the server's memory, without telling the
        listeners: a memory reading is no change of state to push."""
        rss, peak = _memory_of(ping)
        with self._lock:
            state = self._states.get(name)
            if state is None or state.pid != server.pid or rss is None:
                return
            # Only a change worth showing: the pages refresh when a location's state differs.
            if _moved(state.rss_bytes, rss) or _moved(state.peak_rss_bytes, peak):
                self._states[name] = replace(state, rss_bytes=rss, peak_rss_bytes=peak)

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


def _memory(server: CodeServerProcess) -> tuple[int | None, int | None]:
    """The resident memory of a server that just loaded, now and at its peak, in bytes (None
    when it does not answer or its platform does not tell)."""
    if not server.alive():
        return None, None
    try:
        return _memory_of(server.ping(timeout=5.0))
    except ProtocolError:
        return None, None


def _memory_of(ping: dict[str, object]) -> tuple[int | None, int | None]:
    rss, peak = ping.get("rss_bytes"), ping.get("peak_rss_bytes")
    return (rss if isinstance(rss, int) else None, peak if isinstance(peak, int) else None)


def _moved(before: int | None, after: int | None) -> bool:
    """True when a memory reading moved by more than 5% (and 1 MB) since the one kept."""
    if before is None or after is None:
        return before != after
    return abs(after - before) > max(1_000_000, before // 20)


def _same(a: list[tuple[Any, ...]], b: list[tuple[Any, ...]]) -> bool:
    """Whether two lists of (name, snapshot, staleness) name the same snapshot objects."""
    return len(a) == len(b) and all(
        x[0] == y[0] and x[1] is y[1] and x[2] == y[2] for x, y in zip(a, b, strict=True)
    )

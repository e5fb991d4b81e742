"""A deployment: one workspace's code locations, its instance and its daemon loops, as one object.

The one composition root: the webserver, ``bh dev`` and ``bh daemon`` hold one that serves;
CLI commands that run without a server (``bh launch``, a backfill run here) hold one in
foreground mode (`Deployment.foreground`). It never imports user code: locations run in code
servers, runs in run workers, and everything it knows comes from snapshots and storage.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bakehouse.daemon.automation import AutomationDaemon
from bakehouse.daemon.backfills import BackfillDaemon, unfinished_limit
from bakehouse.daemon.freshness import FreshnessDaemon
from bakehouse.daemon.freshness_checks import FreshnessChecksDaemon
from bakehouse.daemon.loop import Loop
from bakehouse.daemon.monitor import RunMonitor
from bakehouse.daemon.run_queue import RunQueue, TagConcurrencyLimit
from bakehouse.daemon.scheduler import Scheduler
from bakehouse.daemon.sensors import SensorDaemon
from bakehouse.errors import ProjectError, StorageError
from bakehouse.host.client import LocationTarget, target_for_project
from bakehouse.host.discovery import DEPLOYMENT_FILE, find_running_deployment
from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.host.launching import plan_run, submit
from bakehouse.host.run_coordinator import RunCoordinator
from bakehouse.host.supervisor import (
    LocationChanges,
    LocationState,
    LocationSupervisor,
)
from bakehouse.project.workspace import Workspace, read_workspace
from bakehouse.protocol.run_plan import RunPlan
from bakehouse.storage import Instance, RunRecord, RunStatus
from bakehouse.storage.records import BACKFILL_TAG
from bakehouse.storage.reload_records import ReloadRecord

log = logging.getLogger("bakehouse.host")

__all__ = ["DEPLOYMENT_FILE", "Deployment", "find_running_deployment"]


class Deployment:
    """Code locations + instance + daemon loops and run queue (+ file watcher) for a workspace.

    With `daemon` off (a webserver beside a separate ``bh daemon``, or a CLI command in the
    foreground), no loop starts: runs it queues wait for a daemon, or for the command to drive
    them. `supervisor`: the workspace's locations, maybe already loading. `record_reloads`:
    keep each reload in the instance's reload history (not for a foreground command's loads).
    """

    def __init__(
        self,
        workspace: Workspace,
        instance: Instance,
        *,
        watch: bool = False,
        max_concurrent_runs: int | None = None,
        tag_concurrency_limits: Sequence[TagConcurrencyLimit] | None = None,
        heartbeat_interval: float = 2.0,
        daemon: bool = True,
        supervisor: LocationSupervisor | None = None,
        record_reloads: bool = True,
    ) -> None:
        self.workspace = workspace
        self.instance = instance
        # Limits not given here come from the workspace's [tool.bakehouse.run_queue].
        settings = workspace.run_queue
        if max_concurrent_runs is None:
            max_concurrent_runs = settings.max_concurrent_runs
        if tag_concurrency_limits is None:
            tag_concurrency_limits = [
                TagConcurrencyLimit(t.key, t.limit, value=t.value, per_value=t.per_value)
                for t in settings.tag_concurrency_limits
            ]
        if supervisor is None:
            supervisor = LocationSupervisor(
                [target_for_project(p, workspace.load_limit) for p in workspace.projects],
                heartbeat_interval=heartbeat_interval,
                allow_duplicate_asset_keys=workspace.allow_duplicate_asset_keys,
            )
        # A supervisor given (``bh dev`` starts one before importing the web stack, so the
        # code servers load meanwhile) serves the workspace's locations too. Its mapping of
        # targets is the one everybody reads (the coordinator too): it changes when the
        # workspace file does (`refresh_workspace`).
        self.targets: dict[str, LocationTarget] = supervisor.targets
        self.supervisor = supervisor
        if record_reloads:
            supervisor.subscribe_reloads(self._store_reload)
        self.log_dir = (instance.home or workspace.home) / "logs"
        self.coordinator = RunCoordinator(instance, self.targets, log_dir=self.log_dir)
        self.run_queue = RunQueue(
            instance,
            self.coordinator,
            self.supervisor.global_graph,
            max_concurrent_runs=max_concurrent_runs,
            tag_concurrency_limits=tag_concurrency_limits,
        )
        self.backfills = BackfillDaemon(
            instance,
            self.supervisor,
            self.coordinator,
            on_launch=self.run_queue.wake,
            max_unfinished_runs=unfinished_limit(max_concurrent_runs),
        )
        # What `start` starts: the run queue and every daemon loop, unless the daemon is off.
        self.loops: list[Loop] = []
        if daemon:
            wake = self.run_queue.wake
            self.loops = [
                self.run_queue,
                Scheduler(instance, self.supervisor, on_launch=wake),
                SensorDaemon(instance, self.supervisor, on_launch=wake),
                AutomationDaemon(instance, self.supervisor, on_launch=wake),
                FreshnessDaemon(instance, self.supervisor.global_graph),
                FreshnessChecksDaemon(instance, self.supervisor, on_launch=wake),
                RunMonitor(instance, self.coordinator),
                self.backfills,
            ]
        self.watch = watch
        self._watcher: threading.Thread | None = None
        self._stop_watching = threading.Event()
        # The workspace file's own watcher: it outlives the project watcher's restarts.
        self._workspace_watcher: threading.Thread | None = None
        self._stop_watching_workspace = threading.Event()
        self._refreshing = threading.Lock()
        self.started_at = time.time()

    @classmethod
    def foreground(
        cls, workspace: Workspace, instance: Instance, *, max_concurrent_runs: int | None = None
    ) -> Deployment:
        """A deployment for a CLI command that runs without a server: its code servers and
        coordinator, no daemon loop; the command drives its runs (`execute`) or its backfill
        (`drive_backfill`, ticking `backfills`) in the foreground."""
        return cls(
            workspace,
            instance,
            daemon=False,
            max_concurrent_runs=max_concurrent_runs,
            record_reloads=False,
        )

    def __enter__(self) -> Deployment:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, *, wait_for_locations: bool = True) -> None:
        """Start every code location, the daemon loops and (if asked) the file watcher."""
        self.supervisor.start(wait=wait_for_locations)
        for loop in self.loops:
            loop.start()
        if self.watch:
            self._start_watcher()
            self._workspace_watcher = threading.Thread(
                target=self._watch_workspace, name="workspace-watcher", daemon=True
            )
            self._workspace_watcher.start()

    def stop(self) -> None:
        """Stop everything this deployment started; runs still going are canceled."""
        with self._refreshing:  # no refresh starts a new watcher after this
            self._stop_watching.set()
            self._stop_watching_workspace.set()
        for loop in self.loops:
            loop.stop()
        self.run_queue.stop()
        self.coordinator.cancel_all("Run canceled: the deployment stopped.")
        self.supervisor.stop()
        for watcher in (self._watcher, self._workspace_watcher):
            if watcher is not None:
                watcher.join(timeout=5)
        self.remove_deployment_file()

    # -- what the API shows ------------------------------------------------------------------

    def locations(self) -> list[LocationState]:
        """Every location's state."""
        return self.supervisor.states()

    def graph(self) -> GlobalAssetGraph:
        """The global asset graph of the definitions serving now."""
        return self.supervisor.global_graph()

    def failed_locations(self) -> list[LocationState]:
        """Locations that are not serving (failed to load, or still loading)."""
        return [s for s in self.supervisor.states() if not s.status.is_serving]

    def reload(self, name: str, *, trigger: str = "api", actor: str | None = None) -> LocationState:
        """Reload one location (blocking until it loaded or failed). A name the workspace did
        not list when it was last read (a project just added to it) reads it again first;
        `KeyError` if it is still not there. `trigger` and `actor` (who asked) go into the
        reload history."""
        if name not in self.targets:
            self.refresh_workspace()
        if name not in self.targets:
            raise KeyError(name)
        return self.supervisor.reload(name, trigger=trigger, actor=actor)

    def reload_all(self, *, actor: str | None = None) -> list[LocationState]:
        """Read the workspace file again (projects added start, removed ones stop), then
        reload every location in parallel. `ProjectError` if the file no longer reads."""
        self.refresh_workspace()
        return self.supervisor.reload_all(actor=actor)

    def reloads(
        self, name: str, *, limit: int | None = 20, before_id: int | None = None
    ) -> list[ReloadRecord]:
        """The reload history of location `name`, newest first (page with `before_id`)."""
        return self.instance.get_reloads(name, limit=limit, before_id=before_id)

    def _store_reload(self, record: ReloadRecord) -> None:
        # The history is worth less than the reload it records: a storage hiccup is logged.
        try:
            self.instance.store_reload(record)
        except StorageError as exc:
            log.warning("could not store the reload of %s: %s", record.location, exc)

    def refresh_workspace(self) -> LocationChanges:
        """Serve the projects the workspace file lists now: new ones are listed (LOADING; a
        reload loads them), removed ones stop and go. Raises `ProjectError` (naming the file
        and key) when it does not read; then nothing changes."""
        with self._refreshing:
            workspace = read_workspace(self.workspace.config_file)
            changes = self.supervisor.set_targets(
                target_for_project(p, workspace.load_limit) for p in workspace.projects
            )
            self.workspace = workspace
            if changes.added or changes.removed:
                log.info("workspace changed: added %s, removed %s", changes.added, changes.removed)
                self._restart_watcher()
        return changes

    def launch(
        self,
        *,
        selection: str | None = None,
        asset_keys: list[str] | None = None,
        job_name: str | None = None,
        tags: Mapping[str, str] | None = None,
        system_tags: Mapping[str, str] | None = None,
        run_config: Mapping[str, Any] | None = None,
        partition_key: str | None = None,
        job_location: str | None = None,
    ) -> RunRecord:
        """Plan and queue a run of a selection, explicit keys or a job (of one partition of its
        partitioned assets, if `partition_key`), with the caller's `tags` and bakehouse's own
        `system_tags`; raises `LaunchError` before storing anything."""
        return self.submit(
            plan_run(
                self.graph(),
                dynamic_keys=self.instance.get_dynamic_partitions,
                selection=selection,
                asset_keys=asset_keys,
                job_name=job_name,
                job_location=job_location,
                tags=tags,
                system_tags=system_tags,
                run_config=run_config,
                partition_key=partition_key,
            )
        )

    def submit(self, plan: RunPlan) -> RunRecord:
        """Queue the run `plan` describes and wake the run queue."""
        run = submit(self.instance, plan)
        self.run_queue.wake()
        return run

    def execute(self, run_id: str) -> RunStatus:
        """Drive the stored run `run_id` to its end in this thread (a foreground command)."""
        return self.coordinator.execute(run_id, self.graph())

    def drive_backfill(self, backfill_id: str) -> None:
        """Start the run queue for the runs of one backfill only (a foreground command ticks
        `backfills` itself)."""
        self.run_queue.only_tag = (BACKFILL_TAG, backfill_id)
        self.run_queue.start()

    def cancel(self, run_id: str, reason: str = "Run canceled from the UI.") -> None:
        """Cancel a queued or running run."""
        self.coordinator.cancel(run_id, reason)

    # -- file watching -----------------------------------------------------------------------

    def _start_watcher(self) -> None:
        self._stop_watching = threading.Event()
        self._watcher = threading.Thread(
            target=self._watch, args=(self._stop_watching,), name="file-watcher", daemon=True
        )
        self._watcher.start()

    def _restart_watcher(self) -> None:
        """Watch the projects the workspace lists now (after it changed); called holding
        `_refreshing`, so that `stop` cannot slip in between."""
        if self._watcher is None or self._stop_watching.is_set():
            return
        self._stop_watching.set()
        self._watcher.join(timeout=5)
        self._start_watcher()

    def _watch(self, stop: threading.Event) -> None:
        """Reload a location when its project's Python files change (and only that one)."""
        from watchfiles import watch

        roots = {p.location_name: p.root for p in self.workspace.projects}

        def owner(path: str) -> str | None:
            # The most specific project root wins when projects nest.
            matches = [(len(str(r)), n) for n, r in roots.items() if path.startswith(str(r))]
            return max(matches)[1] if matches else None

        watched = [str(r) for r in roots.values()]
        for changes in watch(
            *watched,
            watch_filter=_ProjectFilter(),
            stop_event=stop,
            debounce=400,
            raise_interrupt=False,
        ):
            names = {owner(path) for _, path in changes} - {None}
            for name in sorted(n for n in names if n is not None):
                log.info("files of %s changed; reloading it", name)
                threading.Thread(
                    target=self.reload, args=(name,), kwargs={"trigger": "file_change"}, daemon=True
                ).start()

    def _watch_workspace(self) -> None:
        """Serve what the workspace file lists whenever it changes: added projects load,
        removed ones stop, ones started another way reload (``bh dev`` needs no Reload all)."""
        from watchfiles import watch

        config = self.workspace.config_file.resolve()
        # The folder, not the file: editors save by replacing the file, which ends a watch on it.
        for _ in watch(
            config.parent,
            watch_filter=lambda _change, path: Path(path).name == config.name,
            recursive=False,
            stop_event=self._stop_watching_workspace,
            debounce=400,
            raise_interrupt=False,
        ):
            try:
                changes = self.refresh_workspace()
            except ProjectError as exc:  # half-saved, or wrong: what serves keeps serving
                log.warning("the workspace file does not read; nothing changed: %s", exc)
                continue
            for name in (*changes.added, *changes.changed):
                log.info("the workspace file changed; loading %s", name)
                threading.Thread(
                    target=self.reload,
                    args=(name,),
                    kwargs={"trigger": "file_change"},
                    daemon=True,
                ).start()

    # -- discovery by the CLI ----------------------------------------------------------------

    def write_deployment_file(self, url: str) -> Path:
        """Tell CLI commands in this workspace where the running deployment answers."""
        home = self.instance.home or self.workspace.home
        home.mkdir(parents=True, exist_ok=True)
        path = home / DEPLOYMENT_FILE
        path.write_text(json.dumps({"url": url, "pid": os.getpid(), "started_at": self.started_at}))
        return path

    def remove_deployment_file(self) -> None:
        """Forget the deployment file, if it is ours."""
        path = (self.instance.home or self.workspace.home) / DEPLOYMENT_FILE
        try:
            if json.loads(path.read_text()).get("pid") == os.getpid():
                path.unlink()
        except (OSError, ValueError):
            pass


class _ProjectFilter:
    """Python files and project settings; not caches, virtualenvs or the instance folder."""

    _IGNORED_PARTS = frozenset(
        {".venv", "venv", "__pycache__", ".bakehouse", ".git", "node_modules", ".mypy_cache"}
    )
    _WATCHED_NAMES = frozenset({"pyproject.toml", "dg.toml", ".env", "defs.yaml"})

    def __call__(self, change: Any, path: str) -> bool:
        parts = Path(path).parts
        if any(part in self._IGNORED_PARTS for part in parts):
            return False
        name = parts[-1] if parts else ""
        return name.endswith((".py", ".sql", ".yaml", ".yml")) or name in self._WATCHED_NAMES

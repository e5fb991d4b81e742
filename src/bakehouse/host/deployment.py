"""A deployment: one workspace's code locations, its instance and its daemon loops, as one object.

The webserver and the CLI's ``bh dev`` hold one. It never imports user code: locations run in
code servers, runs in run workers, and everything it knows comes from snapshots and storage.
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

from bakehouse.daemon.backfills import unfinished_limit
from bakehouse.daemon.daemon import Daemon
from bakehouse.daemon.run_queue import RunQueue, TagConcurrencyLimit
from bakehouse.errors import SelectionError
from bakehouse.host.client import LocationTarget, target_for_project
from bakehouse.host.discovery import DEPLOYMENT_FILE, find_running_deployment
from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.host.partition_keys import describe, partition_keys
from bakehouse.host.run_coordinator import RunCoordinator
from bakehouse.host.supervisor import LocationState, LocationSupervisor
from bakehouse.project.workspace import Workspace
from bakehouse.storage import Instance, RunRecord

log = logging.getLogger("bakehouse.host")

__all__ = ["DEPLOYMENT_FILE", "Deployment", "find_running_deployment"]


class Deployment:
    """Code locations + instance + daemon loops and run queue (+ file watcher) for a workspace.

    With `daemon` off (a webserver beside a separate ``bh daemon``), runs it queues wait for
    that daemon to start them. `supervisor`: the workspace's locations, maybe already loading.
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
                [target_for_project(p) for p in workspace.projects],
                heartbeat_interval=heartbeat_interval,
                allow_duplicate_asset_keys=workspace.allow_duplicate_asset_keys,
            )
        # A supervisor given (``bh dev`` starts one before importing the web stack, so the
        # code servers load meanwhile) serves the workspace's locations too.
        self.targets: dict[str, LocationTarget] = dict(supervisor.targets)
        self.supervisor = supervisor
        self.log_dir = (instance.home or workspace.home) / "logs"
        self.coordinator = RunCoordinator(instance, self.targets, log_dir=self.log_dir)
        self.run_queue = RunQueue(
            instance,
            self.coordinator,
            self.supervisor.global_graph,
            max_concurrent_runs=max_concurrent_runs,
            tag_concurrency_limits=tag_concurrency_limits,
        )
        self.daemon = (
            Daemon(
                instance,
                self.supervisor,
                self.coordinator,
                on_launch=self.run_queue.wake,
                max_unfinished_backfill_runs=unfinished_limit(max_concurrent_runs),
            )
            if daemon
            else None
        )
        self.watch = watch
        self._watcher: threading.Thread | None = None
        self._stop_watching = threading.Event()
        self.started_at = time.time()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, *, wait_for_locations: bool = True) -> None:
        """Start every code location, the run queue and (if asked) the file watcher."""
        self.supervisor.start(wait=wait_for_locations)
        if self.daemon is not None:
            self.run_queue.start()
            self.daemon.start()
        if self.watch:
            self._watcher = threading.Thread(target=self._watch, name="file-watcher", daemon=True)
            self._watcher.start()

    def stop(self) -> None:
        """Stop everything this deployment started; runs still going are canceled."""
        self._stop_watching.set()
        if self.daemon is not None:
            self.daemon.stop()
        self.run_queue.stop()
        self.coordinator.cancel_all("Run canceled: the deployment stopped.")
        self.supervisor.stop()
        if self._watcher is not None:
            self._watcher.join(timeout=5)
        self.remove_deployment_file()

    # -- what the API shows ------------------------------------------------------------------

    def locations(self) -> list[LocationState]:
        """Every location's state."""
        return self.supervisor.states()

    def graph(self) -> GlobalAssetGraph:
        """The global asset graph of the definitions serving now."""
        return self.supervisor.global_graph()

    def reload(self, name: str) -> LocationState:
        """Reload one location (blocking until it loaded or failed)."""
        if name not in self.targets:
            raise KeyError(name)
        return self.supervisor.reload(name)

    def reload_all(self) -> list[LocationState]:
        """Reload every location in parallel."""
        return self.supervisor.reload_all()

    def launch(
        self,
        *,
        selection: str | None = None,
        asset_keys: list[str] | None = None,
        job_name: str | None = None,
        tags: Mapping[str, str] | None = None,
        run_config: Mapping[str, Any] | None = None,
        partition_key: str | None = None,
    ) -> RunRecord:
        """Queue a run of a selection, explicit keys or a job (of one partition of its
        partitioned assets, if `partition_key`); raises `SelectionError`."""
        graph = self.graph()
        if job_name:
            keys = list(graph.find_job(job_name)[1].asset_keys)
        elif asset_keys:
            unknown = [k for k in asset_keys if k not in graph.assets]
            if unknown:
                raise SelectionError(f"unknown asset keys: {unknown}")
            keys = graph.select(" or ".join(f'key:"{k}"' for k in asset_keys))
        else:
            keys = graph.select(selection or "")
        self._check_partition(graph, keys, partition_key)
        run = self.coordinator.create_run(
            graph,
            keys,
            selection_query=selection,
            job_name=job_name,
            tags=tags,
            run_config=run_config,
            partition_key=partition_key,
        )
        self.run_queue.wake()
        return run

    def _check_partition(
        self, graph: GlobalAssetGraph, keys: list[str], partition_key: str | None
    ) -> None:
        """Refuse a partition that no selected partitioned asset has now, or no partition for
        partitioned assets (their steps would fail)."""
        partitioned = [k for k in keys if graph.assets[k].node.partitions is not None]
        if partition_key is None:
            if partitioned:
                raise SelectionError(
                    f"{', '.join(partitioned[:5])}{' and others' if len(partitioned) > 5 else ''}"
                    f" {'is' if len(partitioned) == 1 else 'are'} partitioned: give a "
                    "partition_key, or launch a backfill of a range of partitions"
                )
            return
        if not partitioned:
            raise SelectionError(f"partition {partition_key!r}: no selected asset is partitioned")
        for key in partitioned:
            snap = graph.assets[key].node.partitions
            assert snap is not None
            if partition_key not in partition_keys(
                snap, dynamic_keys=self.instance.get_dynamic_partitions
            ):
                raise SelectionError(
                    f"asset '{key}' has no partition {partition_key!r} ({describe(snap)})"
                )

    def cancel(self, run_id: str) -> None:
        """Cancel a queued or running run."""
        self.coordinator.cancel(run_id, "Run canceled from the UI.")

    # -- file watching -----------------------------------------------------------------------

    def _watch(self) -> None:
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
            stop_event=self._stop_watching,
            debounce=400,
            raise_interrupt=False,
        ):
            names = {owner(path) for _, path in changes} - {None}
            for name in sorted(n for n in names if n is not None):
                log.info("files of %s changed; reloading it", name)
                threading.Thread(target=self.reload, args=(name,), daemon=True).start()

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

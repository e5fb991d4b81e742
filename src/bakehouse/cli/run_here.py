"""A planned run driven from this process (a foreground deployment), followed live in the
terminal: ``bh launch`` and ``bh runs reexecute`` without a running deployment."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, NoReturn

from bakehouse.cli import json_output
from bakehouse.cli.output import console
from bakehouse.cli.progress import RunFollower
from bakehouse.cli.run_json import outcome_json
from bakehouse.errors import ErrorInfo, StorageError
from bakehouse.storage.records import EventRecord, EventType

if TYPE_CHECKING:
    from bakehouse.host.deployment import Deployment
    from bakehouse.host.global_graph import GlobalAssetGraph
    from bakehouse.protocol.run_plan import RunPlan
    from bakehouse.storage import Instance

POLL_SECONDS = 0.05


def drive_here(deployment: Deployment, plan: RunPlan, *, what: str, quiet: bool) -> NoReturn:
    """Store `plan`, drive its run to the end showing each step, exit with its outcome (1 if it
    failed, 130 on Ctrl-C after canceling it); with ``--json``, print the outcome's document."""
    out = console()
    instance = deployment.instance
    run = deployment.submit(plan)
    out.print(f"Run [bold]{run.run_id}[/] of [bold]{what}[/] in {', '.join(plan.locations)}")
    follower = RunFollower(out, quiet=quiet, total=_step_count(deployment.graph(), plan))
    driver = _Driver(deployment, run.run_id)
    driver.start()
    try:
        _follow(instance, run.run_id, driver, follower)
    except KeyboardInterrupt:
        driver.cancel()
        follower.close()
        out.print("[magenta]Run canceled.[/]")
        raise SystemExit(130) from None
    finally:
        follower.close()
    final = instance.get_run(run.run_id)
    events = instance.get_events(run.run_id)
    follower.print_summary(final, events, deployment.log_dir / f"{run.run_id}.log")
    if json_output.active():
        json_output.emit(outcome_json(final, events))
    raise SystemExit(0 if final.status.value == "SUCCESS" else 1)


def _step_count(graph: GlobalAssetGraph, plan: RunPlan) -> int:
    """The steps the run executes: its assets' steps and its checks' own steps."""
    checks = set(plan.check_keys)
    return len(
        {graph.assets[k].node.step_key for k in plan.asset_keys}
        | {
            placed.check.step_key
            for key, placed_checks in graph.checks.items()
            for placed in placed_checks
            if f"{key}:{placed.check.name}" in checks
        }
    )


class _Driver(threading.Thread):
    """Drives the run in the background so the terminal can follow the events."""

    def __init__(self, deployment: Deployment, run_id: str) -> None:
        super().__init__(name="run-driver", daemon=True)
        self.deployment = deployment
        self.run_id = run_id
        self.error: ErrorInfo | None = None

    def run(self) -> None:
        try:
            self.deployment.execute(self.run_id)
        except Exception as exc:  # noqa: BLE001 - reported as the run's failure
            self.error = ErrorInfo.from_exception(exc)
            self.deployment.instance.store_event(
                EventRecord(
                    run_id=self.run_id,
                    event_type=EventType.RUN_FAILURE,
                    timestamp=time.time(),
                    message=f"Run {self.run_id} failed in the launcher: {self.error.message}",
                    level="ERROR",
                    data={"error": self.error.to_dict()},
                )
            )

    def cancel(self) -> None:
        """Stop the current worker and record the run as canceled."""
        self.deployment.cancel(self.run_id, "Run canceled from the terminal.")
        self.join(timeout=10)


def _follow(instance: Instance, run_id: str, driver: _Driver, follower: RunFollower) -> None:
    cursor = 0
    while True:
        finished = not driver.is_alive()
        try:
            events = instance.get_events(run_id, after_storage_id=cursor)
        except StorageError:
            # Storage is out of reach for now (a lost connection): the driver records the
            # run's end once it is back; following resumes from the cursor then.
            if finished:
                raise
            events = []
        for event in events:
            follower.handle(event)
            cursor = event.storage_id or cursor
        follower.render()
        if finished:
            return
        # Wakes as soon as the run ends, rather than a whole poll later.
        driver.join(POLL_SECONDS)

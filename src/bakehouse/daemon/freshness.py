"""The freshness loop: evaluates every asset's `FreshnessPolicy` against storage and records each
change of its state (fresh, stale, overdue, unknown) as an asset check result.

Host side, from snapshots and storage only, as Dagster's freshness daemon: no run, no user code.
A result is stored when an asset's state (or its policy) differs from its newest stored one (so
the log holds changes, not one row per pass), as a runless ASSET_CHECK_EVALUATION of the check
`host.freshness.POLICY_CHECK_NAME`; the asset page and the catalog read it back.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from bakehouse.daemon.loop import Clock, Loop
from bakehouse.host.freshness import (
    LABELS,
    POLICY_CHECK_NAME,
    Verdict,
    evaluate_policy,
    freshness_of_result,
    policy_params,
)
from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.protocol.snapshot import FreshnessPolicySnap
from bakehouse.storage.records import EventRecord, EventType

if TYPE_CHECKING:
    from bakehouse.storage import Instance

log = logging.getLogger("bakehouse.daemon.freshness")

# Events the daemon writes belong to no run, as Dagster's runless asset events.
RUNLESS_RUN_ID = ""


class FreshnessDaemon(Loop):
    """Evaluates every freshness policy of the serving definitions each pass; `tick` is one."""

    name = "freshness"

    def __init__(
        self,
        instance: Instance,
        graph: Callable[[], GlobalAssetGraph],
        *,
        clock: Clock = time.time,
        interval: float = 5.0,
    ) -> None:
        super().__init__(interval=interval, clock=clock)
        self.instance = instance
        self.graph = graph
        # The newest stored state of each asset and the policy parameters it was judged by,
        # read from storage the first time it is needed: a new state, or a changed policy,
        # is stored again.
        self._stored: dict[str, tuple[str, str]] = {}

    def policies(self) -> dict[str, FreshnessPolicySnap]:
        """Each asset with a policy in the serving definitions, by key."""
        graph = self.graph()
        return {
            key: placed.node.freshness_policy
            for key, placed in graph.assets.items()
            if placed.node.freshness_policy is not None
        }

    def tick(self) -> dict[str, Verdict]:
        """Evaluate every policy now; store the states that changed. Returns what changed."""
        policies = self.policies()
        if not policies:
            return {}
        now = self.clock()
        keys = sorted(policies)
        latest = self.instance.get_latest_materializations(keys)
        self._read_stored([k for k in keys if k not in self._stored])
        changed: dict[str, Verdict] = {}
        for key in keys:
            record = latest.get(key)
            verdict = evaluate_policy(policies[key], record.timestamp if record else None, now)
            if self._stored.get(key) != (verdict.state, _params_text(policy_params(policies[key]))):
                changed[key] = verdict
        if changed:
            self.instance.store_events(_event(key, v, now) for key, v in changed.items())
            for key, verdict in changed.items():
                self._stored[key] = (verdict.state, _params_text(policy_params(policies[key])))
                log.info("freshness of %s: %s (%s)", key, verdict.state, verdict.description)
        return changed

    def _read_stored(self, keys: list[str]) -> None:
        if not keys:
            return
        histories = self.instance.get_asset_check_histories(keys, limit=200)
        for key in keys:
            for event in histories.get(key, []):
                if event.data.get("check_name") != POLICY_CHECK_NAME:
                    continue
                found = freshness_of_result(event.data, event.timestamp, event.run_id)
                if found is not None:
                    self._stored[key] = (found.state, _params_text(found.params))
                break


def _params_text(params: Mapping[str, object]) -> str:
    return json.dumps(params, sort_keys=True, default=str)


def _event(key: str, verdict: Verdict, now: float) -> EventRecord:
    data: Mapping[str, object] = {
        "check_name": POLICY_CHECK_NAME,
        "passed": verdict.passed,
        "severity": verdict.severity,
        "blocking": False,
        "description": verdict.description,
        "metadata": verdict.metadata,
    }
    return EventRecord(
        run_id=RUNLESS_RUN_ID,
        event_type=EventType.ASSET_CHECK_EVALUATION,
        timestamp=now,
        message=f"Freshness policy of {key}: {LABELS[verdict.state]} ({verdict.description}).",
        level="INFO" if verdict.state == "PASS" else "WARNING",
        asset_key=key,
        data=dict(data),
    )

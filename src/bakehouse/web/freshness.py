"""Each asset's freshness as the UI shows it, read from its newest asset check results: the
daemon's evaluations of its `FreshnessPolicy` and the results of its freshness checks
(`build_last_update_freshness_checks`); the worst of them is the asset's badge."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bakehouse.host.freshness import (
    POLICY_CHECK_NAME,
    UNKNOWN,
    Freshness,
    freshness_of_result,
    reason,
)
from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.storage.records import EventRecord, EventType

# Worst first: the badge shows the first state any source has.
_ORDER = {"FAIL": 0, "WARN": 1, UNKNOWN: 2, "PASS": 3}
# Pill styles of the states (app.css).
STYLES = {"PASS": "ok", "WARN": "warn", "FAIL": "bad", UNKNOWN: "muted"}


@dataclass(frozen=True)
class FreshnessView:
    """One source of an asset's freshness, ready to show: state, label, why, and where from."""

    state: str
    label: str
    reason: str
    source: str  # "policy", or the freshness check's name
    evaluated_at: float
    run_id: str

    @property
    def style(self) -> str:
        """The pill style of the state."""
        return STYLES.get(self.state, "muted")


def is_watched(graph: GlobalAssetGraph, key: str) -> bool:
    """True when `key` has a freshness policy or a freshness check (its checks' results are then
    worth reading)."""
    placed = graph.assets.get(key)
    if placed is not None and placed.node.freshness_policy is not None:
        return True
    return any(_is_freshness_check(p.check.metadata) for p in graph.checks.get(key, ()))


def _is_freshness_check(metadata: dict[str, object]) -> bool:
    return "dagster/freshness_params" in metadata


def views_of(
    graph: GlobalAssetGraph, key: str, history: Iterable[EventRecord], now: float
) -> list[FreshnessView]:
    """The asset's freshness sources, worst first, from its check results (newest first): the
    policy's newest stored evaluation (UNKNOWN until the daemon evaluated it) and each
    freshness check's newest result."""
    wanted: set[str] = {
        p.check.name for p in graph.checks.get(key, ()) if _is_freshness_check(p.check.metadata)
    }
    placed = graph.assets.get(key)
    has_policy = placed is not None and placed.node.freshness_policy is not None
    if has_policy:
        wanted.add(POLICY_CHECK_NAME)
    found: dict[str, FreshnessView] = {}
    for event in history:
        if event.event_type != EventType.ASSET_CHECK_EVALUATION:
            continue
        name = str(event.data.get("check_name") or "")
        if name not in wanted or name in found:
            continue
        result = freshness_of_result(event.data, event.timestamp, event.run_id)
        if result is not None:
            found[name] = _view(result, now)
    if has_policy and POLICY_CHECK_NAME not in found:
        found[POLICY_CHECK_NAME] = FreshnessView(
            UNKNOWN, "Unknown", "not evaluated yet (the daemon evaluates policies)", "policy", 0, ""
        )
    return sorted(found.values(), key=lambda v: (_ORDER.get(v.state, 9), v.source))


def _view(result: Freshness, now: float) -> FreshnessView:
    policy = result.source == POLICY_CHECK_NAME
    # A policy's reason is said again as of now ("last updated 3 h ago" keeps counting); a
    # check's is its own description, as of its run, unless its metadata says enough.
    if policy or (result.last_updated is not None and result.params):
        why = reason(result.state, result.params, result.last_updated, now)
    else:
        why = result.description or "no reason recorded"
    return FreshnessView(
        state=result.state,
        label=result.label,
        reason=why,
        source="policy" if policy else result.source,
        evaluated_at=result.evaluated_at,
        run_id=result.run_id,
    )


def worst(views: list[FreshnessView]) -> FreshnessView | None:
    """The badge of an asset: its worst source (`views_of` sorts worst first)."""
    return views[0] if views else None

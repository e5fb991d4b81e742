"""Freshness, host side: a `FreshnessPolicySnap` evaluated at an instant, and the freshness an
asset check result says (a policy's stored evaluation, or a `build_last_update_freshness_checks`
check), in one vocabulary: PASS (fresh), WARN (stale), FAIL (overdue), UNKNOWN.

Pure functions of the policy, the newest materialization's time and the time now, with Dagster's
rules: a time window fails once the newest materialization is `fail_window` old (warns from
`warn_window`); a cron policy looks at the window before the latest completed deadline tick and
passes when the newest materialization is at or after its start. Never materialized is UNKNOWN.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bakehouse.graph.time_ticks import latest_tick_at_or_before, next_tick_after
from bakehouse.protocol.snapshot import FreshnessPolicySnap

# The check name under which the daemon stores a policy's evaluations (as runless asset check
# results). Not an identifier, so no user's check can have it.
POLICY_CHECK_NAME = "bakehouse/freshness"
# The metadata keys Dagster's freshness checks write; a check whose spec carries
# FRESHNESS_PARAMS is a freshness check.
FRESHNESS_PARAMS = "dagster/freshness_params"
LAST_UPDATED = "dagster/last_updated_timestamp"
LOWER_BOUND = "dagster/freshness_lower_bound_timestamp"
FRESH_UNTIL = "dagster/fresh_until_timestamp"
LATEST_CRON_TICK = "dagster/latest_cron_tick_timestamp"
STATE = "bakehouse/freshness_state"

PASS, WARN, FAIL, UNKNOWN = "PASS", "WARN", "FAIL", "UNKNOWN"
# What the UI calls each state.
LABELS = {PASS: "Fresh", WARN: "Stale", FAIL: "Overdue", UNKNOWN: "Unknown"}


@dataclass(frozen=True)
class Verdict:
    """One evaluation of a policy: the state, why, and the check result that records it."""

    state: str
    description: str
    last_updated: float | None
    # When the state can next change by time alone (None: only a materialization changes it).
    changes_at: float | None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True when fresh (a stored result's ``passed``)."""
        return self.state == PASS

    @property
    def severity(self) -> str:
        """A stored result's severity: ERROR when overdue, else WARN."""
        return "ERROR" if self.state == FAIL else "WARN"


def duration_words(seconds: float) -> str:
    """A short duration for people: ``45 s``, ``12 min``, ``3 h``, ``2 h 30 min``, ``4 d``."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{int(seconds)} s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h" + (f" {minutes} min" if minutes and hours < 10 else "")
    days, hours = divmod(hours, 24)
    return f"{days} d" + (f" {hours} h" if hours else "")


def policy_params(policy: FreshnessPolicySnap) -> dict[str, Any]:
    """The policy's parameters as stored with each evaluation (and shown as its reason)."""
    if policy.kind == "cron":
        return {
            "deadline_cron": policy.deadline_cron,
            "lower_bound_delta_seconds": policy.lower_bound_delta_seconds,
            "timezone": policy.timezone,
        }
    params: dict[str, Any] = {"fail_window_seconds": policy.fail_window_seconds}
    if policy.warn_window_seconds is not None:
        params["warn_window_seconds"] = policy.warn_window_seconds
    return params


def _timestamp(value: float) -> dict[str, Any]:
    return {"type": "timestamp", "value": value}


def evaluate_policy(policy: FreshnessPolicySnap, last_updated: float | None, now: float) -> Verdict:
    """Evaluate `policy` at `now` for an asset last materialized at `last_updated` (None: never)."""
    params = policy_params(policy)
    metadata: dict[str, Any] = {FRESHNESS_PARAMS: {"type": "json", "value": params}}
    if last_updated is not None:
        metadata[LAST_UPDATED] = _timestamp(last_updated)
    if policy.kind == "cron":
        state, changes_at = _cron_state(policy, last_updated, now, metadata)
    else:
        state, changes_at = _window_state(policy, last_updated, now)
    metadata[STATE] = {"type": "text", "value": state}
    if changes_at is not None and state == PASS:
        metadata[FRESH_UNTIL] = _timestamp(changes_at)
    return Verdict(
        state=state,
        description=reason(state, params, last_updated, now),
        last_updated=last_updated,
        changes_at=changes_at,
        metadata=metadata,
    )


def _window_state(
    policy: FreshnessPolicySnap, last_updated: float | None, now: float
) -> tuple[str, float | None]:
    if last_updated is None:
        return UNKNOWN, None
    age = now - last_updated
    fail = policy.fail_window_seconds or 0.0
    warn = policy.warn_window_seconds
    if age >= fail:
        return FAIL, None
    if warn is not None and age >= warn:
        return WARN, last_updated + fail
    return PASS, last_updated + (warn if warn is not None else fail)


def _cron_state(
    policy: FreshnessPolicySnap, last_updated: float | None, now: float, metadata: dict[str, Any]
) -> tuple[str, float | None]:
    cron, zone = policy.deadline_cron or "", policy.timezone or "UTC"
    deadline = latest_tick_at_or_before(cron, zone, now)
    lower_bound = deadline - (policy.lower_bound_delta_seconds or 0.0)
    metadata[LATEST_CRON_TICK] = _timestamp(deadline)
    metadata[LOWER_BOUND] = _timestamp(lower_bound)
    if last_updated is None:
        return UNKNOWN, None
    if last_updated >= lower_bound:
        return PASS, next_tick_after(cron, zone, now)
    return FAIL, None


def reason(state: str, params: Mapping[str, Any], last_updated: float | None, now: float) -> str:
    """Why an asset is in `state` under a policy with `params`, as of `now`: e.g. "last updated
    3 h ago, fail window 2 h"."""
    if last_updated is None:
        return "never materialized"
    said = f"last updated {duration_words(now - last_updated)} ago"
    if "deadline_cron" in params:
        window = duration_words(float(params.get("lower_bound_delta_seconds") or 0))
        where = f"deadline {params['deadline_cron']} ({params.get('timezone') or 'UTC'})"
        if state == FAIL:
            return f"{said}, not in the {window} before the last {where}"
        return f"{said}, within {window} of the {where}"
    if "fail_window_seconds" not in params:  # a freshness check without a deadline
        allowed = duration_words(float(params.get("lower_bound_delta_seconds") or 0))
        return f"{said}, allowed {allowed}"
    fail = duration_words(float(params.get("fail_window_seconds") or 0))
    warn = params.get("warn_window_seconds")
    if state == WARN and warn is not None:
        return f"{said}, warn window {duration_words(float(warn))}, fail window {fail}"
    return f"{said}, fail window {fail}"


@dataclass(frozen=True)
class Freshness:
    """An asset's freshness as a stored check result says it."""

    state: str
    # POLICY_CHECK_NAME for a policy's evaluation, else the freshness check's name.
    source: str
    description: str
    evaluated_at: float
    run_id: str
    last_updated: float | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """Fresh, Stale, Overdue or Unknown."""
        return LABELS.get(self.state, self.state)


def _value(entry: Any) -> Any:
    return entry.get("value") if isinstance(entry, dict) and "type" in entry else entry


def freshness_of_result(data: Mapping[str, Any], timestamp: float, run_id: str) -> Freshness | None:
    """The freshness an ASSET_CHECK_EVALUATION event's `data` records, if it is a policy's
    evaluation or a freshness check's result; None for any other check."""
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, dict):
        return None
    name = str(data.get("check_name") or "")
    params = _value(metadata.get(FRESHNESS_PARAMS))
    if name != POLICY_CHECK_NAME and not isinstance(params, dict):
        return None
    stored = _value(metadata.get(STATE))
    if isinstance(stored, str) and stored in LABELS:
        state = stored
    elif data.get("passed"):
        state = PASS
    else:
        state = FAIL if data.get("severity") == "ERROR" else WARN
    last = _value(metadata.get(LAST_UPDATED))
    return Freshness(
        state=state,
        source=name,
        description=str(data.get("description") or ""),
        evaluated_at=timestamp,
        run_id=run_id,
        last_updated=float(last) if isinstance(last, (int, float)) else None,
        params=params if isinstance(params, dict) else {},
    )

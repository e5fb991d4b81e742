"""Evaluate one asset's automation condition tree against a tick's `Facts`, with Dagster's
meanings, and explain the result: which partitions each node was true for.

Stateful nodes keep what they need in the asset's `AutomationCursor`, by their path in the tree
(``0``, ``0.1``, ``0.1@dep/key.0`` under a dependency): SINCE where it was true, NEWLY_TRUE
where its operand was true, code_version_changed the code version it saw. The cursor's
`max_storage_id` and `evaluated_at` are "the previous evaluation" that newly_updated and
cron_tick_passed compare with.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from bakehouse.daemon.automation_facts import Facts, cron_tick_passed
from bakehouse.protocol.snapshot import AutomationConditionSnap
from bakehouse.serdes import encode
from bakehouse.storage.automation_records import AutomationCursor, ConditionNodeResult

ROOT_PATH = "0"


def condition_hash(condition: AutomationConditionSnap) -> str:
    """Identifies a condition tree: a changed condition's state starts over."""
    return hashlib.sha256(encode(condition).encode()).hexdigest()[:16]


@dataclass
class RootEvaluation:
    """The evaluation of one asset's (the root's) condition within a tick."""

    facts: Facts
    root: str
    condition: AutomationConditionSnap
    # The root's stored cursor (None: never evaluated); its node state counts only while the
    # condition is unchanged.
    prior: AutomationCursor | None
    # Targets requested so far this tick, by asset (assets earlier in dependency order).
    requested_now: dict[str, set[str]]
    # What each asset's previous evaluation requested (newly_requested).
    previous_requested: dict[str, tuple[str, ...]]
    node_partitions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    node_values: dict[str, str] = field(default_factory=dict)

    @property
    def unchanged(self) -> bool:
        """True if the previous evaluation was of this very condition."""
        return self.prior is not None and self.prior.condition_hash == condition_hash(
            self.condition
        )

    def run(self) -> tuple[set[str], ConditionNodeResult]:
        """The root's targets to request, and the explained tree."""
        candidates = set(self.facts.partitions(self.root))
        true, result = self._node(self.condition, self.root, ROOT_PATH)
        return true & candidates, result

    # -- state ---------------------------------------------------------------------------------

    def _remembered(self, path: str) -> set[str] | None:
        if not self.unchanged or self.prior is None:
            return None
        found = self.prior.node_partitions.get(path)
        return set(found) if found is not None else None

    def _remember(self, path: str, partitions: set[str]) -> None:
        self.node_partitions[path] = tuple(sorted(partitions))

    # -- nodes -------------------------------------------------------------------------------

    def _node(
        self, node: AutomationConditionSnap, key: str, path: str, dep: str | None = None
    ) -> tuple[set[str], ConditionNodeResult]:
        candidates = set(self.facts.partitions(key))
        children: list[ConditionNodeResult] = []
        kind = node.kind
        if kind in ("and", "or", "not"):
            results = [self._node(c, key, f"{path}.{i}", dep) for i, c in enumerate(node.children)]
            children = [r for _, r in results]
            sets = [s for s, _ in results]
            if kind == "and":
                true = set(candidates)
                for s in sets:
                    true &= s
            elif kind == "or":
                true = set().union(*sets) if sets else set()
            else:
                true = candidates - (sets[0] if sets else set())
        elif kind == "since":
            (trigger, trigger_result), (reset, reset_result) = (
                self._node(node.children[0], key, f"{path}.0", dep),
                self._node(node.children[1], key, f"{path}.1", dep),
            )
            children = [trigger_result, reset_result]
            # True where it was, plus where the trigger is now, minus where the reset is now.
            true = ((self._remembered(path) or set()) | trigger) - reset
            self._remember(path, true)
        elif kind == "newly_true":
            operand, operand_result = self._node(node.children[0], key, f"{path}.0", dep)
            children = [operand_result]
            true = operand - (self._remembered(path) or set())
            self._remember(path, operand)
        elif kind in ("any_deps", "all_deps"):
            true, children = self._deps(node, key, path, candidates)
        elif kind in ("any_checks", "all_checks"):
            true, children = self._checks(node, key, path, candidates)
        else:
            true = self._operand(node, key, path, candidates)
        true &= candidates
        return true, ConditionNodeResult(
            kind=kind,
            name=node.name or kind,
            label=node.label,
            dep=dep,
            true_partitions=tuple(sorted(true)),
            candidates=len(candidates),
            children=tuple(children),
        )

    def _deps(
        self, node: AutomationConditionSnap, key: str, path: str, candidates: set[str]
    ) -> tuple[set[str], list[ConditionNodeResult]]:
        deps = [
            d
            for d in self.facts.deps(key)
            if (node.allow is None or d in node.allow) and d not in node.ignore
        ]
        children = []
        true = set(candidates) if node.kind == "all_deps" else set()
        for dep in deps:
            dep_true, result = self._node(node.children[0], dep, f"{path}@{dep}", dep=dep)
            children.append(result)
            matched = {p for p in candidates if self.facts.mapped(dep, p) & dep_true}
            true = true & matched if node.kind == "all_deps" else true | matched
        return true, children

    def _checks(
        self, node: AutomationConditionSnap, key: str, path: str, candidates: set[str]
    ) -> tuple[set[str], list[ConditionNodeResult]]:
        # A check's result is about the asset's latest data: it holds for all targets or none.
        results = [
            self._check_node(node.children[0], key, name, f"{path}#{name}")
            for name in self.facts.checks(key, blocking_only=node.blocking_only)
        ]
        held = [ok for ok, _ in results]
        passed = any(held) if node.kind == "any_checks" else all(held)
        return (set(candidates) if passed else set()), [r for _, r in results]

    def _check_node(
        self, node: AutomationConditionSnap, key: str, check: str, path: str
    ) -> tuple[bool, ConditionNodeResult]:
        """A condition of one asset check (`check` of asset `key`)."""
        children = [
            self._check_node(c, key, check, f"{path}.{i}") for i, c in enumerate(node.children)
        ]
        held = [ok for ok, _ in children]
        if node.kind == "and":
            ok = all(held)
        elif node.kind == "or":
            ok = any(held)
        elif node.kind == "not":
            ok = not held[0] if held else True
        elif node.kind in ("check_passed", "check_failed"):
            result = self.facts.check_results(key).get(check)
            ok = result is not None and result == (node.kind == "check_passed")
        elif node.kind == "will_be_requested":
            # A check runs with its asset: requested when the asset is, in the root's run.
            ok = (
                key != self.root and self._runs_with_root(key) and bool(self.requested_now.get(key))
            )
        else:
            ok = False  # asset operands say nothing of a check
        return ok, ConditionNodeResult(
            kind=node.kind,
            name=node.name or node.kind,
            label=node.label,
            dep=f"{key}:{check}",
            true_partitions=("",) if ok else (),
            candidates=1,
            children=tuple(r for _, r in children),
        )

    def _operand(
        self, node: AutomationConditionSnap, key: str, path: str, candidates: set[str]
    ) -> set[str]:
        facts, prior = self.facts, self.prior
        kind = node.kind
        if kind == "missing":
            return facts.missing(key)
        if kind == "run_in_progress":
            return facts.run_in_progress(key)
        if kind == "backfill_in_progress":
            return facts.backfill_in_progress(key)
        if kind == "execution_failed":
            return facts.execution_failed(key)
        if kind == "newly_updated":
            # The first evaluation has no "previous" to be updated since.
            return facts.updated_after(key, prior.max_storage_id) if prior is not None else set()
        if kind == "newly_requested":
            return set(self.previous_requested.get(key, ()))
        if kind == "initial_evaluation":
            return set() if self.unchanged else set(candidates)
        if kind == "will_be_requested":
            if key == self.root or not self._runs_with_root(key):
                return set()
            return set(self.requested_now.get(key, set()))
        if kind == "executed_with_root_target":
            return facts.updated_with(key, self.root)
        if kind == "in_latest_time_window":
            return facts.latest_time_window(key, node.lookback_seconds)
        if kind == "cron_tick_passed":
            if prior is None or node.cron_schedule is None:
                return set()
            passed = cron_tick_passed(
                node.cron_schedule, node.cron_timezone, prior.evaluated_at, facts.now
            )
            return set(candidates) if passed else set()
        if kind == "code_version_changed":
            node_snap = facts.node(key)
            version = (node_snap.code_version if node_snap else None) or ""
            before = prior.node_values.get(path) if prior is not None and self.unchanged else None
            self.node_values[path] = version
            return set(candidates) if before is not None and before != version else set()
        # A kind this host does not know (a newer code server): never true, shown as such.
        return set()

    def _runs_with_root(self, key: str) -> bool:
        """True if `key` can be materialized in one run with the root (same partitions)."""
        facts = self.facts
        return facts.is_materializable(key) and facts.partitions_snap_of(
            key
        ) == facts.partitions_snap_of(self.root)

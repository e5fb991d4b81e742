"""`AutomationCondition`: when an asset should be materialized, declared on the asset.

A condition is a tree of plain data: operands (``missing``, ``newly_updated``,
``cron_tick_passed``, ...) joined by operators (``&``, ``|``, ``~``, ``.since()``,
``.newly_true()``, ``any_deps_match``). The code server sends the tree in the snapshot and the
host's daemon evaluates it against storage each tick, so nothing here runs at evaluation time:
this module only builds and names trees, with Dagster's constructors and meanings.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bakehouse.errors import DefinitionError

# Kinds whose children are combined (the rest are operands, evaluated from storage).
OPERATORS = frozenset(
    {"and", "or", "not", "since", "newly_true", "any_deps", "all_deps", "any_checks", "all_checks"}
)
_DEPS_KINDS = frozenset({"any_deps", "all_deps"})

# What the evaluation view prints for each kind (Dagster's names for them).
_NAMES = {
    "and": "AND",
    "or": "OR",
    "not": "NOT",
    "since": "SINCE",
    "newly_true": "NEWLY_TRUE",
    "any_deps": "ANY_DEPS_MATCH",
    "all_deps": "ALL_DEPS_MATCH",
    "any_checks": "ANY_CHECKS_MATCH",
    "all_checks": "ALL_CHECKS_MATCH",
}


@dataclass(frozen=True, eq=True)
class AutomationCondition:
    """A condition of an asset that decides whether the daemon materializes it; build one with
    the static constructors (``AutomationCondition.eager()``) and combine them with ``&``,
    ``|``, ``~``, ``.since()`` and ``.newly_true()``."""

    kind: str
    operands: tuple[AutomationCondition, ...] = ()
    label: str | None = None
    cron_schedule: str | None = None
    cron_timezone: str | None = None
    lookback_seconds: float | None = None
    # For any_checks/all_checks: only the asset's blocking checks count.
    blocking_only: bool = False
    # For any_deps/all_deps: the deps considered (None: all) and the ones left out; each an
    # AssetSelection or keys, resolved against the location's assets when it is loaded.
    allow_selection: Any = field(default=None, compare=False)
    ignore_selection: Any = field(default=None, compare=False)

    # -- naming ------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The condition's formal name, as the evaluation view shows it."""
        if self.kind == "cron_tick_passed":
            return (
                f"cron_tick_passed(cron_schedule={self.cron_schedule}, "
                f"cron_timezone={self.cron_timezone})"
            )
        if self.kind == "in_latest_time_window" and self.lookback_seconds:
            delta = datetime.timedelta(seconds=self.lookback_seconds)
            return f"in_latest_time_window(lookback_timedelta={delta})"
        return _NAMES.get(self.kind, self.kind)

    @property
    def children(self) -> Sequence[AutomationCondition]:
        """The sub-conditions, in order."""
        return self.operands

    def get_label(self) -> str | None:
        """The human-readable label given with `with_label`, if any."""
        return self.label

    def with_label(self, label: str | None) -> AutomationCondition:
        """A copy of this condition with a human-readable label."""
        return replace(self, label=label)

    def __repr__(self) -> str:
        inner = ", ".join(repr(c) for c in self.operands)
        text = f"{self.name}({inner})" if self.operands else self.name
        return f"{text}.with_label({self.label!r})" if self.label else text

    # -- combining ---------------------------------------------------------------------------

    def __and__(self, other: AutomationCondition) -> AutomationCondition:
        """Both conditions are true; unlabeled ANDs are flattened into one."""
        return AutomationCondition("and", (*_flat(self, "and"), *_flat(_checked(other), "and")))

    def __or__(self, other: AutomationCondition) -> AutomationCondition:
        """Either condition is true; unlabeled ORs are flattened into one."""
        return AutomationCondition("or", (*_flat(self, "or"), *_flat(_checked(other), "or")))

    def __invert__(self) -> AutomationCondition:
        """This condition is not true."""
        return AutomationCondition("not", (self,))

    def since(self, reset_condition: AutomationCondition) -> AutomationCondition:
        """True once this condition has been true since `reset_condition` last became true
        (if both become true on one evaluation, the reset wins)."""
        return AutomationCondition("since", (self, _checked(reset_condition)))

    def newly_true(self) -> AutomationCondition:
        """True on the evaluation where this condition goes from false to true."""
        return AutomationCondition("newly_true", (self,))

    def since_last_handled(self) -> AutomationCondition:
        """This condition since the target was last requested or updated, or the condition
        was first evaluated (or changed)."""
        handled = (
            AutomationCondition.newly_requested()
            | AutomationCondition.newly_updated()
            | AutomationCondition.initial_evaluation()
        ).with_label("handled")
        return self.since(handled)

    def without(self, *conditions: AutomationCondition) -> AutomationCondition:
        """This AND without the given operands (each must be one of them), keeping the label."""
        if self.kind != "and":
            raise DefinitionError(f"without() applies to an AND condition, not to {self.name}")
        for condition in conditions:
            if condition not in self.operands:
                raise DefinitionError(f"without(): {condition!r} is not an operand of {self!r}")
        kept = tuple(c for c in self.operands if c not in conditions)
        return replace(self, operands=kept)

    def replace(
        self, old: AutomationCondition | str, new: AutomationCondition
    ) -> AutomationCondition:
        """Every sub-condition equal to `old` (or labeled `old`) replaced by `new`."""
        if old == self or (isinstance(old, str) and old == self.label):
            return new
        return replace(self, operands=tuple(c.replace(old, new) for c in self.operands))

    def allow(self, selection: Any) -> AutomationCondition:
        """Only the dependencies in `selection` (an AssetSelection or keys) count."""
        return self._deps_filter("allow_selection", selection)

    def ignore(self, selection: Any) -> AutomationCondition:
        """The dependencies in `selection` (an AssetSelection or keys) do not count."""
        return self._deps_filter("ignore_selection", selection)

    def _deps_filter(self, attribute: str, selection: Any) -> AutomationCondition:
        if self.kind in _DEPS_KINDS:
            return replace(self, **{attribute: selection})
        # Through operators down to the dep conditions, as Dagster applies it.
        return replace(
            self, operands=tuple(c._deps_filter(attribute, selection) for c in self.operands)
        )

    # -- operands ----------------------------------------------------------------------------

    @staticmethod
    def missing() -> AutomationCondition:
        """True if the target has never been materialized."""
        return AutomationCondition("missing")

    @staticmethod
    def run_in_progress() -> AutomationCondition:
        """True if the target is part of a run that has not finished."""
        return AutomationCondition("run_in_progress")

    @staticmethod
    def backfill_in_progress() -> AutomationCondition:
        """True if the target is part of a backfill that has not finished."""
        return AutomationCondition("backfill_in_progress")

    @staticmethod
    def in_progress() -> AutomationCondition:
        """True if the target is part of an unfinished run or backfill."""
        return (
            AutomationCondition.run_in_progress() | AutomationCondition.backfill_in_progress()
        ).with_label("in_progress")

    @staticmethod
    def execution_failed() -> AutomationCondition:
        """True if the latest run that tried to materialize the target failed."""
        return AutomationCondition("execution_failed")

    @staticmethod
    def newly_updated() -> AutomationCondition:
        """True if the target was materialized since the previous evaluation."""
        return AutomationCondition("newly_updated")

    @staticmethod
    def newly_requested() -> AutomationCondition:
        """True if the target was requested on the previous evaluation."""
        return AutomationCondition("newly_requested")

    @staticmethod
    def code_version_changed() -> AutomationCondition:
        """True if the target's code version changed since the previous evaluation."""
        return AutomationCondition("code_version_changed")

    @staticmethod
    def initial_evaluation() -> AutomationCondition:
        """True on the first evaluation of the condition (and the first after it changed)."""
        return AutomationCondition("initial_evaluation")

    @staticmethod
    def will_be_requested() -> AutomationCondition:
        """True if the target will be requested on this evaluation (by the condition of an
        asset evaluated before it, that can run in the same run)."""
        return AutomationCondition("will_be_requested")

    @staticmethod
    def executed_with_root_target() -> AutomationCondition:
        """True if the run that last materialized the target also materialized the asset whose
        condition is being evaluated."""
        return AutomationCondition("executed_with_root_target")

    @staticmethod
    def in_latest_time_window(
        lookback_delta: datetime.timedelta | None = None,
    ) -> AutomationCondition:
        """True for the latest time partition of a time-partitioned target (with
        `lookback_delta`, for every partition ending within it of the latest window's end);
        always true for other targets."""
        seconds = lookback_delta.total_seconds() if lookback_delta is not None else None
        return AutomationCondition("in_latest_time_window", lookback_seconds=seconds)

    @staticmethod
    def cron_tick_passed(cron_schedule: str, cron_timezone: str = "UTC") -> AutomationCondition:
        """True on the first evaluation after a tick of `cron_schedule`."""
        # Imported here: schedules imports the loading machinery, which imports assets.
        from bakehouse.authoring.schedules import validate_cron, validate_timezone
        from bakehouse.authoring.source import caller_source

        validate_cron(cron_schedule, "AutomationCondition", caller_source())
        validate_timezone(cron_timezone, "AutomationCondition", caller_source())
        return AutomationCondition(
            "cron_tick_passed", cron_schedule=cron_schedule, cron_timezone=cron_timezone
        )

    # -- dependencies ------------------------------------------------------------------------

    @staticmethod
    def any_deps_match(condition: AutomationCondition) -> AutomationCondition:
        """True if `condition` is true for some partition of any dependency."""
        return AutomationCondition("any_deps", (_checked(condition),))

    @staticmethod
    def all_deps_match(condition: AutomationCondition) -> AutomationCondition:
        """True if `condition` is true for some partition of every dependency (true for an
        asset without dependencies)."""
        return AutomationCondition("all_deps", (_checked(condition),))

    # -- asset checks ------------------------------------------------------------------------

    @staticmethod
    def check_passed() -> AutomationCondition:
        """Of an asset check: its latest result, against the asset's latest materialization,
        passed."""
        return AutomationCondition("check_passed")

    @staticmethod
    def check_failed() -> AutomationCondition:
        """Of an asset check: its latest result, against the asset's latest materialization,
        failed (or the check raised)."""
        return AutomationCondition("check_failed")

    @staticmethod
    def any_checks_match(
        condition: AutomationCondition, blocking_only: bool = False
    ) -> AutomationCondition:
        """True if `condition` is true for any of the asset's checks (its blocking ones only,
        with `blocking_only`)."""
        return AutomationCondition(
            "any_checks", (_checked(condition),), blocking_only=bool(blocking_only)
        )

    @staticmethod
    def all_checks_match(
        condition: AutomationCondition, blocking_only: bool = False
    ) -> AutomationCondition:
        """True if `condition` is true for every one of the asset's checks (its blocking ones
        only, with `blocking_only`); true for an asset without checks."""
        return AutomationCondition(
            "all_checks", (_checked(condition),), blocking_only=bool(blocking_only)
        )

    @staticmethod
    def all_deps_blocking_checks_passed() -> AutomationCondition:
        """True once every blocking check of every dependency passed against its latest
        materialization (or the dependency will be requested on this evaluation)."""
        ac = AutomationCondition
        passed = ac.all_checks_match(
            ac.check_passed() | ac.will_be_requested(), blocking_only=True
        ).with_label("all_blocking_checks_passed")
        return ac.all_deps_match(passed).with_label("all_deps_blocking_checks_passed")

    @staticmethod
    def newly_missing() -> AutomationCondition:
        """True on the evaluation where the target becomes missing."""
        return AutomationCondition.missing().newly_true().with_label("newly_missing")

    @staticmethod
    def any_deps_updated() -> AutomationCondition:
        """True if a dependency was materialized since the previous evaluation (not by a run
        that also materialized the target) or will be requested on this one."""
        ac = AutomationCondition
        updated = (ac.newly_updated() & ~ac.executed_with_root_target()).with_label(
            "newly_updated_without_root"
        )
        return ac.any_deps_match(updated | ac.will_be_requested()).with_label("any_deps_updated")

    @staticmethod
    def any_deps_missing() -> AutomationCondition:
        """True if a dependency is missing and will not be requested on this evaluation."""
        ac = AutomationCondition
        return ac.any_deps_match(ac.missing() & ~ac.will_be_requested()).with_label(
            "any_deps_missing"
        )

    @staticmethod
    def any_deps_in_progress() -> AutomationCondition:
        """True if a dependency is part of an unfinished run or backfill."""
        ac = AutomationCondition
        return ac.any_deps_match(ac.in_progress()).with_label("any_deps_in_progress")

    @staticmethod
    def all_deps_updated_since_cron(
        cron_schedule: str, cron_timezone: str = "UTC"
    ) -> AutomationCondition:
        """True once every dependency was materialized since the latest tick of the cron
        schedule (or will be requested on this evaluation)."""
        ac = AutomationCondition
        updated = ac.newly_updated().since(ac.cron_tick_passed(cron_schedule, cron_timezone))
        return ac.all_deps_match(updated | ac.will_be_requested()).with_label(
            f"all_deps_updated_since_cron({cron_schedule}, {cron_timezone})"
        )

    # -- the recommended conditions ----------------------------------------------------------

    @staticmethod
    def eager() -> AutomationCondition:
        """Materialize the target whenever a dependency updates, and when it becomes missing
        after the condition is applied; never while a dependency is missing or in progress, or
        the target is in progress. Time-partitioned targets: the latest partition only."""
        ac = AutomationCondition
        return (
            ac.in_latest_time_window()
            & (ac.newly_missing() | ac.any_deps_updated()).since_last_handled()
            & ~ac.any_deps_missing()
            & ~ac.any_deps_in_progress()
            & ~ac.in_progress()
        ).with_label("eager")

    @staticmethod
    def on_cron(cron_schedule: str, cron_timezone: str = "UTC") -> AutomationCondition:
        """Materialize the target once per tick of the cron schedule, as soon as every
        dependency has updated since that tick. Time-partitioned targets: the latest partition
        only."""
        ac = AutomationCondition
        return (
            ac.in_latest_time_window()
            & ac.cron_tick_passed(cron_schedule, cron_timezone).since_last_handled()
            & ac.all_deps_updated_since_cron(cron_schedule, cron_timezone)
        ).with_label(f"on_cron({cron_schedule}, {cron_timezone})")

    @staticmethod
    def on_missing() -> AutomationCondition:
        """Materialize partitions of the target that go missing after the condition is
        applied, once no dependency is missing. Time-partitioned targets: the latest partition
        only."""
        ac = AutomationCondition
        missing = (
            ac.missing().newly_true().since_last_handled().with_label("missing_since_last_handled")
        )
        return (ac.in_latest_time_window() & missing & ~ac.any_deps_missing()).with_label(
            "on_missing"
        )


def _checked(value: Any) -> AutomationCondition:
    if not isinstance(value, AutomationCondition):
        raise DefinitionError(f"expected an AutomationCondition, got {value!r}")
    return value


def _flat(condition: AutomationCondition, kind: str) -> tuple[AutomationCondition, ...]:
    # An unlabeled operator of the same kind is merged into its parent, as Dagster does.
    if condition.kind == kind and condition.label is None:
        return condition.operands
    return (condition,)


def checked_condition(value: Any, where: str, source: Any = None) -> AutomationCondition | None:
    """`value` if it is an AutomationCondition or None; else a DefinitionError naming `where`."""
    if value is None or isinstance(value, AutomationCondition):
        return value
    raise DefinitionError(
        f"{where}: automation_condition must be an AutomationCondition such as "
        f"AutomationCondition.eager(), got {value!r}",
        source=source,
    )

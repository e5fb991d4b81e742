"""The records of declarative automation in storage: each asset's condition cursor and the
explained result of each evaluation.

Partition keys are strings; an unpartitioned asset's one target is the empty string ``""``.
"""

from __future__ import annotations

from bakehouse.serdes import Record

UNPARTITIONED = ""
"""The partition key standing for an unpartitioned asset in the sets below."""


class AutomationCursor(Record, frozen=True, kw_only=True):
    """What one asset's evaluation remembers for the next one."""

    asset_key: str
    # The evaluation that wrote it (a counter per asset) and when, on the daemon's clock.
    evaluation_id: int = 0
    evaluated_at: float = 0.0
    # The newest event storage id when it was evaluated: "updated since" means a newer one.
    max_storage_id: int = 0
    # Identifies the condition tree: a changed condition starts over (initial_evaluation).
    condition_hash: str = ""
    # Partitions requested by that evaluation (newly_requested reads them next time).
    requested: tuple[str, ...] = ()
    # Per stateful node (by its path in the tree): the partitions it remembers (SINCE: where
    # it was true; NEWLY_TRUE: where its operand was true).
    node_partitions: dict[str, tuple[str, ...]] = {}
    # Per node, a value it compares with next time (code_version_changed: the code version).
    node_values: dict[str, str] = {}


class ConditionNodeResult(Record, frozen=True, kw_only=True):
    """One node of an evaluated condition tree: where it was true, and its children's results."""

    kind: str
    name: str
    label: str | None = None
    # The dependency this subtree was evaluated for (under ANY_DEPS_MATCH / ALL_DEPS_MATCH).
    dep: str | None = None
    # Partitions where it was true, and how many it was evaluated for.
    true_partitions: tuple[str, ...] = ()
    candidates: int = 1
    children: tuple[ConditionNodeResult, ...] = ()

    @property
    def is_true(self) -> bool:
        """True if the node was true for at least one partition."""
        return bool(self.true_partitions)


class AutomationEvaluation(Record, frozen=True, kw_only=True):
    """One evaluation of one asset's automation condition, explained."""

    asset_key: str
    # The automation condition sensor that evaluated it (``location:name``).
    origin: str
    evaluation_id: int
    evaluated_at: float
    # Partitions the condition requested, and the runs launched for them.
    requested: tuple[str, ...] = ()
    run_ids: tuple[str, ...] = ()
    tree: ConditionNodeResult
    # Set once stored: the row's id (newest evaluations have the highest).
    storage_id: int | None = None

    @property
    def num_requested(self) -> int:
        """How many partitions (1 for an unpartitioned asset) were requested."""
        return len(self.requested)

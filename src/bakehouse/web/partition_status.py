"""The status of each partition of an asset, counted and merged into runs for the status bar.

One storage read (`Instance.get_partition_status`) gives every partition that ever had a
status; the keys the definition has now come from the code location. Keys without a status
are missing; statuses of keys the definition no longer has are left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bakehouse.storage.records import PartitionStatus

# The four states, in the order counts are told.
STATES = ("materialized", "failed", "in_progress", "missing")
LABELS = {
    "materialized": "materialized",
    "failed": "failed",
    "in_progress": "in progress",
    "missing": "missing",
}
_OF_STATUS = {
    PartitionStatus.MATERIALIZED: "materialized",
    PartitionStatus.FAILED: "failed",
    PartitionStatus.IN_PROGRESS: "in_progress",
}


@dataclass(frozen=True)
class Segment:
    """Consecutive partitions with one state: keys[start] to keys[start + count - 1]."""

    state: str
    start: int
    count: int
    first_key: str
    last_key: str


@dataclass(frozen=True)
class PartitionView:
    """Each key's state (in key order), how many have each state, and the merged segments."""

    keys: list[str]
    states: list[str]
    counts: dict[str, int]
    segments: list[Segment]

    @property
    def total(self) -> int:
        """How many partitions the asset has now."""
        return len(self.keys)

    def summary(self) -> str:
        """``362 materialized, 2 failed, 1 in progress, 0 missing of 365``."""
        told = ", ".join(f"{self.counts[s]:,} {LABELS[s]}" for s in STATES)
        return f"{told} of {self.total:,}"

    def state_of(self, key: str) -> str | None:
        """The state of `key`, or None if the asset has no such partition now."""
        try:
            return self.states[self.keys.index(key)]
        except ValueError:
            return None


def view(keys: Sequence[str], statuses: Mapping[str, PartitionStatus]) -> PartitionView:
    """The partitions `keys` (in order) with their `statuses` from storage."""
    states = [_OF_STATUS.get(statuses[k], "missing") if k in statuses else "missing" for k in keys]
    counts = dict.fromkeys(STATES, 0)
    segments: list[Segment] = []
    start = 0
    for i, state in enumerate(states):
        counts[state] += 1
        if i + 1 == len(states) or states[i + 1] != state:
            segments.append(Segment(state, start, i + 1 - start, keys[start], keys[i]))
            start = i + 1
    return PartitionView(list(keys), states, counts, segments)


def code_string(states: Sequence[str]) -> str:
    """The states as one letter each (``m``, ``f``, ``i``, ``-``): compact enough to embed the
    state of 10,000 partitions in a page for its scripts."""
    letters = {"materialized": "m", "failed": "f", "in_progress": "i", "missing": "-"}
    return "".join(letters[s] for s in states)

"""Partition states merged into the status bar's segments, and counted."""

from __future__ import annotations

from bakehouse.storage.records import PartitionStatus
from bakehouse.web.partition_status import Segment, code_string, view

M, F, R = PartitionStatus.MATERIALIZED, PartitionStatus.FAILED, PartitionStatus.IN_PROGRESS


def test_consecutive_states_merge_into_one_segment_each() -> None:
    keys = ["a", "b", "c", "d", "e", "f"]
    got = view(keys, {"a": M, "b": M, "c": F, "e": R, "f": R, "gone": M})
    assert got.states == [
        "materialized",
        "materialized",
        "failed",
        "missing",
        "in_progress",
        "in_progress",
    ]
    assert got.segments == [
        Segment("materialized", 0, 2, "a", "b"),
        Segment("failed", 2, 1, "c", "c"),
        Segment("missing", 3, 1, "d", "d"),
        Segment("in_progress", 4, 2, "e", "f"),
    ]
    # A status of a key the definition no longer has is not counted.
    assert got.counts == {"materialized": 2, "failed": 1, "in_progress": 2, "missing": 1}
    assert got.summary() == "2 materialized, 1 failed, 2 in progress, 1 missing of 6"
    assert code_string(got.states) == "mmf-ii"
    assert got.state_of("d") == "missing"
    assert got.state_of("gone") is None


def test_ten_thousand_partitions_are_a_few_segments() -> None:
    keys = [f"k{i:05d}" for i in range(10_000)]
    statuses = {k: M for k in keys[:9_000]} | {keys[9_500]: F}
    got = view(keys, statuses)
    assert [(s.state, s.count) for s in got.segments] == [
        ("materialized", 9_000),
        ("missing", 500),
        ("failed", 1),
        ("missing", 499),
    ]
    assert got.summary() == "9,000 materialized, 1 failed, 0 in progress, 999 missing of 10,000"


def test_no_partitions_is_no_segment() -> None:
    got = view([], {"x": M})
    assert got.segments == []
    assert got.total == 0

"""The storage conformance suite for declarative automation (tables `automation_cursors` and
`automation_evaluations`), on every backend."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bakehouse.storage import Instance
from bakehouse.storage.automation import EVALUATIONS_KEPT
from bakehouse.storage.automation_records import (
    AutomationCursor,
    AutomationEvaluation,
    ConditionNodeResult,
)
from bakehouse.storage.records import EventRecord, EventType, RunRecord
from tests.storage.conftest import upgrade_to

TREE = ConditionNodeResult(
    kind="and",
    name="AND",
    label="eager",
    true_partitions=("",),
    children=(
        ConditionNodeResult(kind="newly_updated", name="newly_updated", dep="raw",
                            true_partitions=("",)),
        ConditionNodeResult(kind="missing", name="missing"),
    ),
)  # fmt: skip


def evaluation(asset_key: str, n: int, requested: tuple[str, ...] = ()) -> AutomationEvaluation:
    return AutomationEvaluation(
        asset_key=asset_key,
        origin="loc:default_automation_condition_sensor",
        evaluation_id=n,
        evaluated_at=1000.0 + n,
        requested=requested,
        run_ids=("r1",) if requested else (),
        tree=TREE,
    )


def test_a_cursor_replaces_the_previous_one_of_its_asset(instance: Instance) -> None:
    assert instance.get_automation_cursors(["a", "b"]) == {}
    first = AutomationCursor(asset_key="a", evaluation_id=1, node_partitions={"0.1": ("",)})
    instance.store_automation_evaluations([first], [])
    second = AutomationCursor(asset_key="a", evaluation_id=2, requested=("2026-01-01",),
                              node_values={"0.3": "v2"}, max_storage_id=17)  # fmt: skip
    other = AutomationCursor(asset_key="b", evaluation_id=2)
    instance.store_automation_evaluations([second, other], [])
    assert instance.get_automation_cursors(["a", "b", "c"]) == {"a": second, "b": other}
    assert instance.get_automation_cursors([]) == {}


def test_evaluations_come_back_newest_first_with_their_tree(instance: Instance) -> None:
    stored = instance.store_automation_evaluations(
        [], [evaluation("a", 1), evaluation("a", 2, ("",)), evaluation("b", 2)]
    )
    assert [e.storage_id is not None for e in stored] == [True, True, True]
    found = instance.get_automation_evaluations("a")
    assert [e.evaluation_id for e in found] == [2, 1]
    assert found[0].tree == TREE
    assert found[0].run_ids == ("r1",)
    assert [
        e.evaluation_id for e in instance.get_automation_evaluations("a", requested_only=True)
    ] == [2]
    assert instance.get_automation_evaluations("a", before_id=found[0].storage_id) == [found[1]]
    assert instance.get_automation_evaluation(found[1].storage_id or 0) == found[1]
    assert instance.get_automation_evaluation(10**9) is None
    assert instance.get_automation_evaluations("nope") == []


def test_only_the_newest_evaluations_of_an_asset_are_kept(instance: Instance) -> None:
    for n in range(EVALUATIONS_KEPT + 5):
        instance.store_automation_evaluations([], [evaluation("a", n)])
    instance.store_automation_evaluations([], [evaluation("b", 0)])
    kept = instance.get_automation_evaluations("a", limit=None)
    assert len(kept) == EVALUATIONS_KEPT
    assert kept[-1].evaluation_id == 5
    assert len(instance.get_automation_evaluations("b", limit=None)) == 1


def test_a_tick_is_stored_whole_or_not_at_all(instance: Instance) -> None:
    unwritable: Any = object()  # the codec cannot write it, after the cursor was written
    bad = evaluation("a", 1, requested=(unwritable,))
    with pytest.raises(TypeError):
        instance.store_automation_evaluations([AutomationCursor(asset_key="a")], [bad])
    assert instance.get_automation_cursors(["a"]) == {}


def test_the_newest_event_storage_id_is_a_point_in_the_log(instance: Instance) -> None:
    assert instance.get_max_event_storage_id() == 0
    instance.create_run(RunRecord(run_id="r1"))
    stored = instance.store_event(
        EventRecord(run_id="r1", event_type=EventType.RUN_START, timestamp=1.0, message="")
    )
    assert instance.get_max_event_storage_id() == stored.storage_id


def test_migration_0007_creates_both_tables(engine: Engine) -> None:
    upgrade_to(engine, "0006")
    assert "automation_cursors" not in sa.inspect(engine).get_table_names()
    upgrade_to(engine, "0007")
    names = sa.inspect(engine).get_table_names()
    assert {"automation_cursors", "automation_evaluations"} <= set(names)

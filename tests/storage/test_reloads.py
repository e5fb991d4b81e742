"""The storage conformance suite for the reload history of code locations (table
`location_reloads`), on every backend."""

from __future__ import annotations

from typing import Any

import pytest

from bakehouse.errors import ErrorInfo
from bakehouse.protocol.snapshot import ModuleErrorSnap
from bakehouse.storage import Instance, reloads
from bakehouse.storage.reload_records import DefinitionChange, DefinitionsDiff, ReloadRecord


def _record(location: str, at: float, **fields: Any) -> ReloadRecord:
    return ReloadRecord(location=location, started_at=at, **{"trigger": "api", **fields})


def test_reloads_come_back_newest_first_per_location_with_their_diff_and_error(
    instance: Instance,
) -> None:
    diff = DefinitionsDiff(
        added=(DefinitionChange(kind="asset", name="bread"),),
        removed=(DefinitionChange(kind="schedule", name="daily"),),
    )
    first = instance.store_reload(_record("bakery", 1.0, trigger="startup", rss_bytes=10))
    second = instance.store_reload(_record("bakery", 2.0, diff=diff, actor="ci", load_seconds=0.5))
    error = ErrorInfo(cls_name="SyntaxError", message="bad", stack=["  File x.py, line 3\n"])
    third = instance.store_reload(_record("bakery", 3.0, loaded=False, error=error))
    instance.store_reload(_record("other", 4.0))
    left_out = ModuleErrorSnap(
        module="bakery.defs.oven", path="/p/oven.py", file="/p/oven.py", line=7, error=error
    )
    fourth = instance.store_reload(_record("bakery", 5.0, module_errors=(left_out,)))
    assert instance.get_reloads("bakery", limit=1) == [fourth]
    assert fourth.module_errors[0].where == "/p/oven.py:7"
    assert first.storage_id is not None
    assert second.storage_id is not None
    found = instance.get_reloads("bakery", before_id=fourth.storage_id)
    assert found == [third, second, first]
    assert found[1].diff == diff
    assert found[1].actor == "ci"
    assert found[0].error == error
    assert not found[0].loaded
    assert found[2].trigger_label == "Startup"
    assert instance.get_reloads("bakery", limit=1, before_id=second.storage_id) == [first]
    assert instance.get_reloads("nowhere") == []


def test_only_the_newest_reloads_of_a_location_are_kept(
    instance: Instance, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reloads, "RELOADS_KEPT", 3)
    for i in range(5):
        instance.store_reload(_record("bakery", float(i)))
    instance.store_reload(_record("other", 9.0))
    assert [r.started_at for r in instance.get_reloads("bakery", limit=None)] == [4.0, 3.0, 2.0]
    assert len(instance.get_reloads("other")) == 1

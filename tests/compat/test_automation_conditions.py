"""`AutomationCondition` and `AutomationConditionSensorDefinition` from the examples of Dagster's
declarative automation guides, run unchanged but for ``import bakehouse as dg``: the conditions
they build, and what the snapshot (the host's only view of them) carries."""

from __future__ import annotations

from typing import Any

import pytest

import bakehouse as dg
from bakehouse.codeserver.loader import build_snapshot
from bakehouse.errors import DefinitionError
from bakehouse.protocol import snapshot
from bakehouse.protocol.snapshot import AutomationConditionSnap, LocationSnap


def snap_of(defs: dg.Definitions) -> LocationSnap:
    """The snapshot of `defs` after a trip through the wire format."""
    loaded = snapshot.loads(
        snapshot.dumps(build_snapshot(defs, name="loc", module="m", load_seconds=0))
    )
    assert isinstance(loaded, LocationSnap)
    return loaded


def labels(node: AutomationConditionSnap) -> list[str]:
    found = [node.label] if node.label else []
    for child in node.children:
        found += labels(child)
    return found


def test_the_tutorials_scheduled_and_reactive_assets_carry_their_conditions() -> None:
    @dg.asset(automation_condition=dg.AutomationCondition.on_cron("0 0 * * 1"))
    def raw_customers() -> None:
        pass

    @dg.asset(deps=[raw_customers], automation_condition=dg.AutomationCondition.eager())
    def customers() -> None:
        pass

    loaded = snap_of(dg.Definitions(assets=[raw_customers, customers]))
    conditions = {a.key: a.automation_condition for a in loaded.assets}
    on_cron, eager = conditions["raw_customers"], conditions["customers"]
    assert on_cron is not None
    assert on_cron.label == "on_cron(0 0 * * 1, UTC)"
    assert eager is not None
    assert eager.label == "eager"
    assert {"any_deps_updated", "any_deps_missing", "any_deps_in_progress", "in_progress",
            "newly_missing", "handled"} <= set(labels(eager))  # fmt: skip
    # Assets with conditions and no sensor of their own get the default sensor, stopped.
    (sensor,) = loaded.sensors
    assert sensor.name == "default_automation_condition_sensor"
    assert sensor.kind == "automation_condition"
    assert sensor.default_status == "STOPPED"
    assert sensor.asset_selection == ("customers", "raw_customers")


def test_an_upstream_asset_without_condition_is_not_targeted() -> None:
    @dg.asset
    def upstream() -> None: ...

    @dg.asset(deps=["upstream"], automation_condition=dg.AutomationCondition.eager())
    def downstream() -> None: ...

    loaded = snap_of(dg.Definitions(assets=[upstream, downstream]))
    assert loaded.sensors[0].asset_selection == ("downstream",)
    assert {a.key: a.automation_condition is None for a in loaded.assets} == {
        "upstream": True,
        "downstream": False,
    }


def test_eager_without_the_missing_guard_as_the_customizing_guide_builds_it() -> None:
    condition = (
        dg.AutomationCondition.eager()
        .without(~dg.AutomationCondition.any_deps_missing())
        .with_label("eager_allow_missing")
    )
    assert condition.get_label() == "eager_allow_missing"
    assert ~dg.AutomationCondition.any_deps_missing() not in condition.children
    assert len(condition.children) == len(dg.AutomationCondition.eager().children) - 1
    latest_only = dg.AutomationCondition.eager().without(
        dg.AutomationCondition.in_latest_time_window(),
    )
    assert dg.AutomationCondition.in_latest_time_window() not in latest_only.children


def test_without_an_operand_that_is_not_there_is_refused() -> None:
    with pytest.raises(DefinitionError, match="not an operand"):
        dg.AutomationCondition.eager().without(dg.AutomationCondition.missing())


def test_ignore_and_allow_resolve_to_keys_in_the_snapshot() -> None:
    @dg.asset(group_name="abc")
    def foo() -> None: ...

    @dg.asset
    def bar() -> None: ...

    @dg.asset(
        deps=[foo, bar],
        automation_condition=dg.AutomationCondition.on_missing().ignore(
            dg.AssetSelection.assets("foo")
        ),
    )
    def ignoring() -> None: ...

    @dg.asset(
        deps=[foo, bar],
        automation_condition=dg.AutomationCondition.on_cron("@hourly").allow(
            dg.AssetSelection.groups("abc")
        ),
    )
    def allowing() -> None: ...

    loaded = {a.key: a.automation_condition for a in snap_of(
        dg.Definitions(assets=[foo, bar, ignoring, allowing])).assets}  # fmt: skip

    def deps_nodes(node: AutomationConditionSnap | None) -> list[AutomationConditionSnap]:
        assert node is not None
        own = [node] if node.kind in ("any_deps", "all_deps") else []
        return own + [n for c in node.children for n in deps_nodes(c)]

    assert all(n.ignore == ("foo",) for n in deps_nodes(loaded["ignoring"]))
    assert all(n.allow == ("foo",) for n in deps_nodes(loaded["allowing"]))
    assert deps_nodes(loaded["allowing"])


def test_operators_combine_as_the_reference_describes() -> None:
    ac = dg.AutomationCondition
    in_progress_or_failed_parents = ac.any_deps_match(ac.in_progress() | ac.execution_failed())
    assert in_progress_or_failed_parents.name == "ANY_DEPS_MATCH"
    new_code_version = ac.code_version_changed().since(ac.newly_requested())
    condition = new_code_version & ~ac.any_deps_missing()
    assert [c.name for c in condition.children] == ["SINCE", "NOT"]
    # Unlabeled ANDs flatten; labeled ones stay one operand.
    assert len((ac.missing() & ac.in_progress() & ac.newly_updated()).children) == 3
    assert ac.newly_missing().get_label() == "newly_missing"
    assert ac.missing().newly_true().name == "NEWLY_TRUE"
    assert ac.cron_tick_passed("0 * * * *").name == (
        "cron_tick_passed(cron_schedule=0 * * * *, cron_timezone=UTC)"
    )
    assert ac.eager() == ac.eager()


def test_a_bad_cron_schedule_is_a_definition_error() -> None:
    with pytest.raises(DefinitionError, match="invalid cron_schedule 'every hour'"):
        dg.AutomationCondition.on_cron("every hour")


def test_a_non_condition_is_refused_at_import_time() -> None:
    not_a_condition: Any = "eager"

    def oops() -> None: ...

    with pytest.raises(
        DefinitionError, match="automation_condition must be an AutomationCondition"
    ):
        dg.asset(automation_condition=not_a_condition)(oops)


def test_sensors_per_team_as_the_automation_condition_sensors_guide_adds_them() -> None:
    @dg.asset(group_name="team_a", automation_condition=dg.AutomationCondition.eager())
    def a() -> None: ...

    @dg.asset(group_name="team_b", automation_condition=dg.AutomationCondition.eager())
    def b() -> None: ...

    @dg.asset(automation_condition=dg.AutomationCondition.eager())
    def c() -> None: ...

    defs = dg.Definitions(
        assets=[a, b, c],
        sensors=[
            dg.AutomationConditionSensorDefinition(
                "team_b_sensor", target=dg.AssetSelection.groups("team_a")
            ),
            dg.AutomationConditionSensorDefinition(
                "team_a_sensor", target=dg.AssetSelection.groups("team_b")
            ),
        ],
    )
    sensors = {s.name: s for s in snap_of(defs).sensors}
    assert sensors["team_b_sensor"].asset_selection == ("a",)
    assert sensors["team_a_sensor"].asset_selection == ("b",)
    # The default sensor takes only what no other sensor targets.
    assert sensors["default_automation_condition_sensor"].asset_selection == ("c",)
    assert all(s.kind == "automation_condition" for s in sensors.values())


def test_no_default_sensor_when_every_condition_is_targeted() -> None:
    @dg.asset(automation_condition=dg.AutomationCondition.on_missing())
    def only() -> None: ...

    sensor = dg.AutomationConditionSensorDefinition(
        "mine",
        target=dg.AssetSelection.all(),
        default_status=dg.DefaultSensorStatus.RUNNING,
        run_tags={"team": "x"},
        minimum_interval_seconds=60,
    )
    (loaded,) = snap_of(dg.Definitions(assets=[only], sensors=[sensor])).sensors
    assert (loaded.name, loaded.default_status) == ("mine", "RUNNING")
    assert (loaded.run_tags, loaded.minimum_interval_seconds) == ({"team": "x"}, 60)


def test_asset_spec_and_multi_asset_outputs_take_conditions() -> None:
    spec = dg.AssetSpec("external_thing", automation_condition=dg.AutomationCondition.eager())
    assert spec.automation_condition == dg.AutomationCondition.eager()

    @dg.multi_asset(
        outs={
            "left": dg.AssetOut(automation_condition=dg.AutomationCondition.on_missing()),
            "right": dg.AssetOut(),
        }
    )
    def both() -> tuple[int, int]:
        return 1, 2

    @dg.multi_asset(specs=[dg.AssetSpec("s1", automation_condition=dg.AutomationCondition.eager())])
    def from_specs() -> dg.MaterializeResult:
        return dg.MaterializeResult(asset_key="s1")

    conditions = {
        a.key: a.automation_condition
        for a in snap_of(dg.Definitions(assets=[both, from_specs])).assets
    }
    assert conditions["left"] is not None
    assert conditions["left"].label == "on_missing"
    assert conditions["right"] is None
    assert conditions["s1"] is not None
    assert conditions["s1"].label == "eager"


def test_blocking_checks_of_deps_as_the_customizing_guides_combine_them() -> None:
    @dg.asset(check_specs=[dg.AssetCheckSpec("ok", asset="upstream", blocking=True)])
    def upstream() -> None: ...

    condition = (
        dg.AutomationCondition.on_missing()
        & dg.AutomationCondition.all_deps_blocking_checks_passed()
    )

    @dg.asset(deps=[upstream], automation_condition=condition)
    def downstream() -> None: ...

    loaded = {a.key: a.automation_condition for a in snap_of(
        dg.Definitions(assets=[upstream, downstream])).assets}  # fmt: skip
    node = loaded["downstream"]
    assert node is not None
    assert {"on_missing", "all_deps_blocking_checks_passed", "all_blocking_checks_passed"} <= set(
        labels(node)
    )

    def checks_nodes(n: AutomationConditionSnap) -> list[AutomationConditionSnap]:
        own = [n] if n.kind == "all_checks" else []
        return own + [m for c in n.children for m in checks_nodes(c)]

    (checks,) = checks_nodes(node)
    assert checks.blocking_only
    assert checks.name == "ALL_CHECKS_MATCH"
    any_failed = dg.AutomationCondition.any_checks_match(dg.AutomationCondition.check_failed())
    assert any_failed.name == "ANY_CHECKS_MATCH"
    assert not any_failed.blocking_only

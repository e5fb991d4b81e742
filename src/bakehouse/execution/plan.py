"""The execution plan: which steps a run executes and in what order.

One step per `AssetsDefinition` that has a selected key, and one per asset check function whose
check is selected (by default: the checks of the selected assets, as in Dagster). A step waits
for the steps that materialize its upstream assets in the same run; a check step waits for its
asset's step, and an asset's step waits for the blocking checks of the assets it depends on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bakehouse.authoring.asset_checks import AssetChecksDefinition
from bakehouse.authoring.asset_graph import AssetGraph
from bakehouse.authoring.assets import AssetsDefinition
from bakehouse.authoring.check_spec import AssetCheckKey
from bakehouse.errors import ExecutionError
from bakehouse.graph.dag import KeyGraph, NodeInfo
from bakehouse.graph.keys import AssetKey

# What a step calls: an asset function, or a check function run on its own.
StepDefinition = AssetsDefinition | AssetChecksDefinition


@dataclass(frozen=True)
class Step:
    """One call of one function, materializing `keys` and evaluating `check_keys`."""

    key: str
    assets_def: StepDefinition
    keys: tuple[AssetKey, ...]
    upstream_steps: tuple[str, ...]
    check_keys: tuple[AssetCheckKey, ...] = ()

    @property
    def is_check(self) -> bool:
        """True for a step that runs a check function (it materializes nothing)."""
        return isinstance(self.assets_def, AssetChecksDefinition)


@dataclass(frozen=True)
class ExecutionPlan:
    """The steps of a run in dependency order."""

    steps: tuple[Step, ...]

    @property
    def asset_keys(self) -> list[AssetKey]:
        """Every key the plan materializes."""
        return [k for s in self.steps for k in s.keys]

    @property
    def check_keys(self) -> list[AssetCheckKey]:
        """Every check the plan evaluates."""
        return [k for s in self.steps for k in s.check_keys]

    def downstream_of(self, step_key: str) -> set[str]:
        """Steps that depend, directly or not, on `step_key`."""
        graph = KeyGraph(NodeInfo(key=s.key, parents=s.upstream_steps) for s in self.steps)
        return graph.downstream([step_key]) - {step_key}

    def chain_successors(self) -> dict[str, str]:
        """Each step whose success makes exactly one step ready, and nothing else can: its one
        downstream step, which waits for it alone. A worker that just ran the first may run the
        second at once (the multiprocess executor's chains), as no other step competes for it.
        """
        downstream: dict[str, list[str]] = {}
        for step in self.steps:
            for upstream in step.upstream_steps:
                downstream.setdefault(upstream, []).append(step.key)
        waits_for = {step.key: step.upstream_steps for step in self.steps}
        return {
            key: children[0]
            for key, children in downstream.items()
            if len(children) == 1 and waits_for[children[0]] == (key,)
        }


def build_plan(
    graph: AssetGraph,
    keys: Iterable[AssetKey],
    check_keys: Iterable[AssetCheckKey] | None = None,
) -> ExecutionPlan:
    """Plan the materialization of `keys` and the evaluation of `check_keys` (default: every
    check of the assets materialized); external keys are refused by name."""
    selected: dict[int, list[AssetKey]] = {}
    defs_by_id: dict[int, AssetsDefinition] = {}
    for key in keys:
        assets_def = graph.assets_def_by_key.get(key)
        if assets_def is None:
            kind = "an external asset" if graph.is_external(key) else "not defined here"
            raise ExecutionError(f"cannot materialize '{key.to_user_string()}': it is {kind}")
        defs_by_id[id(assets_def)] = assets_def
        selected.setdefault(id(assets_def), []).append(key)
    step_of_key: dict[AssetKey, str] = {}
    chosen: dict[str, tuple[StepDefinition, tuple[AssetKey, ...]]] = {}
    for ident, step_keys in selected.items():
        assets_def = defs_by_id[ident]
        # A multi-asset that cannot run for part of its outputs runs whole.
        produced = tuple(step_keys) if assets_def.can_subset else tuple(assets_def.keys)
        chosen[assets_def.op_name] = (assets_def, produced)
        for key in produced:
            step_of_key[key] = assets_def.op_name
    wanted = set(graph.checks_of(step_of_key) if check_keys is None else check_keys)
    checks_of_step = _check_steps(graph, wanted, chosen)
    # A blocking check stands between its asset and what depends on that asset.
    blocking: dict[AssetKey, set[str]] = {}
    for step_key, (definition, _) in chosen.items():
        if isinstance(definition, AssetChecksDefinition):
            for check_key in checks_of_step.get(step_key, ()):
                if definition.get_spec_for_check_key(check_key).blocking:
                    blocking.setdefault(check_key.asset_key, set()).add(step_key)
    nodes = []
    for step_key, (definition, produced) in chosen.items():
        if isinstance(definition, AssetChecksDefinition):
            deps = definition.dependency_keys
        else:
            deps = {d for key in produced for d in definition.specs_by_key[key].deps}
        upstream = {step_of_key[d] for d in deps if d in step_of_key}
        if not isinstance(definition, AssetChecksDefinition):
            upstream |= {c for d in deps for c in blocking.get(d, ())}
        upstream.discard(step_key)
        nodes.append(NodeInfo(key=step_key, parents=tuple(sorted(upstream))))
    order = KeyGraph(nodes).toposort()
    parents = {n.key: n.parents for n in nodes}
    steps = tuple(
        Step(
            key=k,
            assets_def=chosen[k][0],
            keys=chosen[k][1],
            upstream_steps=parents[k],
            check_keys=checks_of_step.get(k, ()),
        )
        for k in order
    )
    return ExecutionPlan(steps)


def _check_steps(
    graph: AssetGraph,
    wanted: set[AssetCheckKey],
    chosen: dict[str, tuple[StepDefinition, tuple[AssetKey, ...]]],
) -> dict[str, tuple[AssetCheckKey, ...]]:
    """Add a step for each wanted check function to `chosen`; the checks each step evaluates."""
    checks_of_step: dict[str, tuple[AssetCheckKey, ...]] = {}
    for step_key, (definition, produced) in chosen.items():
        own = tuple(c.key for c in definition.check_specs if c.asset_key in produced)
        if own:
            checks_of_step[step_key] = own
    evaluated = {k for keys in checks_of_step.values() for k in keys}
    for check_key in sorted(wanted - evaluated):
        owner = graph.check_def_by_key.get(check_key)
        if owner is None:
            raise ExecutionError(f"cannot evaluate asset check '{check_key}': it is not defined")
        if not isinstance(owner, AssetChecksDefinition):
            raise ExecutionError(
                f"cannot evaluate asset check '{check_key}' without materializing "
                f"'{check_key.asset_key}': the asset's function evaluates it"
            )
        chosen[owner.op_name] = (owner, ())
        # A multi-asset check that cannot run part of its checks evaluates them all.
        keys = [*checks_of_step.get(owner.op_name, ()), check_key]
        if not owner.can_subset:
            keys = owner.check_keys
        checks_of_step[owner.op_name] = tuple(sorted(set(keys)))
    return checks_of_step

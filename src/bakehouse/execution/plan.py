"""The execution plan: which steps a run executes and in what order.

One step per `AssetsDefinition` that has a selected key; a step waits for the steps that
materialize its upstream assets in the same run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bakehouse.authoring.asset_graph import AssetGraph
from bakehouse.authoring.assets import AssetsDefinition
from bakehouse.errors import ExecutionError
from bakehouse.graph.dag import KeyGraph, NodeInfo
from bakehouse.graph.keys import AssetKey


@dataclass(frozen=True)
class Step:
    """One call of one asset function, materializing `keys`."""

    key: str
    assets_def: AssetsDefinition
    keys: tuple[AssetKey, ...]
    upstream_steps: tuple[str, ...]


@dataclass(frozen=True)
class ExecutionPlan:
    """The steps of a run in dependency order."""

    steps: tuple[Step, ...]

    @property
    def asset_keys(self) -> list[AssetKey]:
        """Every key the plan materializes."""
        return [k for s in self.steps for k in s.keys]

    def downstream_of(self, step_key: str) -> set[str]:
        """Steps that depend, directly or not, on `step_key`."""
        graph = KeyGraph(NodeInfo(key=s.key, parents=s.upstream_steps) for s in self.steps)
        return graph.downstream([step_key]) - {step_key}


def build_plan(graph: AssetGraph, keys: Iterable[AssetKey]) -> ExecutionPlan:
    """Plan the materialization of `keys`; external keys are refused by name."""
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
    chosen: dict[str, tuple[AssetsDefinition, tuple[AssetKey, ...]]] = {}
    for ident, step_keys in selected.items():
        assets_def = defs_by_id[ident]
        # A multi-asset that cannot run for part of its outputs runs whole.
        produced = tuple(step_keys) if assets_def.can_subset else tuple(assets_def.keys)
        chosen[assets_def.op_name] = (assets_def, produced)
        for key in produced:
            step_of_key[key] = assets_def.op_name
    nodes = []
    for step_key, (assets_def, produced) in chosen.items():
        upstream = {
            step_of_key[dep]
            for key in produced
            for dep in assets_def.specs_by_key[key].deps
            if dep in step_of_key and step_of_key[dep] != step_key
        }
        nodes.append(NodeInfo(key=step_key, parents=tuple(sorted(upstream))))
    order = KeyGraph(nodes).toposort()
    parents = {n.key: n.parents for n in nodes}
    steps = tuple(
        Step(key=k, assets_def=chosen[k][0], keys=chosen[k][1], upstream_steps=parents[k])
        for k in order
    )
    return ExecutionPlan(steps)

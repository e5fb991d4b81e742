"""Graphs wired by hand, as Dagster's ``GraphDefinition(node_defs=..., dependencies=...)`` does:
which output feeds which input, said as data rather than by calling ops in a body.

Framework code and generated pipelines (a job built from a YAML file, say) use this form; it
ends in the same `Node`s a decorated body records, so such a graph runs, nests and loads in a
code location exactly as one written with ``@graph``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bakehouse.authoring.ops import DEFAULT_OUTPUT, OpDefinition
from bakehouse.errors import DefinitionError

if TYPE_CHECKING:
    from bakehouse.authoring.graphs import GraphDefinition, Node, Source


@dataclass(frozen=True)
class DependencyDefinition:
    """The output of another node that feeds one input: ``DependencyDefinition("load")`` is
    node ``load``'s ``result`` output."""

    node: str
    output: str = DEFAULT_OUTPUT
    description: str | None = None

    def is_fan_in(self) -> bool:
        """False: one output feeds the input (see `MultiDependencyDefinition`)."""
        return False


@dataclass(frozen=True)
class MultiDependencyDefinition:
    """Several outputs gathered into one input, which receives them as a list, in this order."""

    dependencies: Sequence[DependencyDefinition]

    def is_fan_in(self) -> bool:
        """True: several outputs feed the input."""
        return True


@dataclass(frozen=True)
class NodeInvocation:
    """A use of the node definition called `name` in a graph, under `alias` when one definition
    is used more than once. Tags describe the node; hooks and retry policies on one use are
    not supported (attach hooks to the job)."""

    name: str
    alias: str | None = None
    # Out of the hash: an invocation keys the dependencies mapping, and these need not hash.
    tags: Mapping[str, str] | None = field(default=None, hash=False)
    hook_defs: Any = field(default=None, hash=False)
    retry_policy: Any = field(default=None, hash=False)


@dataclass(frozen=True)
class InputMapping:
    """An input of the graph, fed to one input of one node inside it."""

    graph_input_name: str
    mapped_node_name: str
    mapped_node_input_name: str
    fan_in_index: int | None = None
    graph_input_description: str | None = None
    dagster_type: Any = None


@dataclass(frozen=True)
class OutputMapping:
    """An output of the graph, taken from one output of one node inside it."""

    graph_output_name: str
    mapped_node_name: str
    mapped_node_output_name: str = DEFAULT_OUTPUT
    graph_output_description: str | None = None
    dagster_type: Any = None


AnyDependency = DependencyDefinition | MultiDependencyDefinition
# What feeds each node's inputs, by node name or `NodeInvocation`. Typed loosely on purpose: a
# literal mixing both key kinds, or both dependency kinds, infers as `object` under mypy's
# invariant dicts; `wire` checks every key and value and names the one at fault.
DependencyMap = Mapping[Any, Mapping[str, Any]]


@dataclass
class WiredGraph:
    """What `wire` makes of node definitions and their dependencies: the nodes in an order in
    which each comes after what feeds it, the graph's input names and its outputs."""

    nodes: list[Node]
    input_names: tuple[str, ...]
    outputs: dict[str, Source]


def _invocations(
    graph_name: str,
    node_defs: Sequence[OpDefinition | GraphDefinition],
    dependencies: DependencyMap,
) -> dict[str, tuple[OpDefinition | GraphDefinition, Mapping[str, AnyDependency]]]:
    """Each node by name: its definition and what feeds its inputs."""
    where = f"GraphDefinition '{graph_name}'"
    by_name: dict[str, OpDefinition | GraphDefinition] = {}
    for definition in node_defs:
        if definition.name in by_name and by_name[definition.name] is not definition:
            raise DefinitionError(f"{where}: two node_defs are named '{definition.name}'")
        by_name[definition.name] = definition
    nodes: dict[str, tuple[OpDefinition | GraphDefinition, Mapping[str, AnyDependency]]] = {}
    invoked: set[str] = set()
    for key, inputs in dependencies.items():
        if isinstance(key, NodeInvocation):
            if key.hook_defs or key.retry_policy is not None:
                raise DefinitionError(
                    f"{where}: NodeInvocation('{key.name}') sets hook_defs or retry_policy, which "
                    "bakehouse does not support on one node; put hooks on the job instead"
                )
            def_name, node_name = key.name, key.alias or key.name
        elif isinstance(key, str):
            def_name = node_name = key
        else:
            raise DefinitionError(
                f"{where}: dependencies keys are node names or NodeInvocation, got {key!r}"
            )
        if def_name not in by_name:
            raise DefinitionError(
                f"{where}: dependencies name node '{def_name}', which is not among node_defs "
                f"{sorted(by_name)}"
            )
        if node_name in nodes:
            raise DefinitionError(f"{where}: node '{node_name}' is wired twice")
        invoked.add(def_name)
        nodes[node_name] = (by_name[def_name], inputs)
    # A definition no dependency entry mentions is one node under its own name, fed by nothing.
    for definition in node_defs:
        if definition.name not in invoked and definition.name not in nodes:
            nodes[definition.name] = (definition, {})
    return nodes


def _source(
    where: str,
    dependency: Any,
    nodes: Mapping[str, tuple[OpDefinition | GraphDefinition, Any]],
) -> Source:
    from bakehouse.authoring.graphs import OutputHandle

    if isinstance(dependency, MultiDependencyDefinition):
        return tuple(_source(where, d, nodes) for d in dependency.dependencies)
    if not isinstance(dependency, DependencyDefinition):
        raise DefinitionError(
            f"{where}: expected DependencyDefinition or MultiDependencyDefinition, got "
            f"{dependency!r}"
        )
    if dependency.node not in nodes:
        raise DefinitionError(
            f"{where}: depends on node '{dependency.node}', which the graph does not have "
            f"(nodes: {sorted(nodes)})"
        )
    outputs = nodes[dependency.node][0].output_names
    if dependency.output not in outputs:
        raise DefinitionError(
            f"{where}: node '{dependency.node}' has no output '{dependency.output}' "
            f"(outputs: {list(outputs)})"
        )
    return OutputHandle(dependency.node, dependency.output)


def _upstream(source: Source) -> list[str]:
    from bakehouse.authoring.graphs import OutputHandle

    if isinstance(source, OutputHandle):
        return [source.node]
    if isinstance(source, tuple):
        return [n for s in source for n in _upstream(s)]
    return []


def _in_dependency_order(graph_name: str, nodes: list[Node]) -> list[Node]:
    """The nodes with each after the nodes that feed it, otherwise in the order given."""
    by_name = {n.name: n for n in nodes}
    upstream = {n.name: {u for s in n.inputs.values() for u in _upstream(s)} for n in nodes}
    ordered: list[Node] = []
    placed: set[str] = set()
    while len(ordered) < len(nodes):
        ready = [n for n in nodes if n.name not in placed and upstream[n.name] <= placed]
        if not ready:
            stuck = sorted(set(by_name) - placed)
            raise DefinitionError(
                f"GraphDefinition '{graph_name}': its dependencies form a cycle among nodes {stuck}"
            )
        for node in ready:
            ordered.append(node)
            placed.add(node.name)
    return ordered


def wire(
    graph_name: str,
    node_defs: Sequence[OpDefinition | GraphDefinition],
    dependencies: DependencyMap | None,
    input_mappings: Sequence[InputMapping] | None,
    output_mappings: Sequence[OutputMapping] | None,
) -> WiredGraph:
    """The nodes, graph inputs and outputs that `node_defs` wired by `dependencies` make."""
    from bakehouse.authoring.graphs import GraphInput, Node, OutputHandle

    invocations = _invocations(graph_name, node_defs, dependencies or {})
    nodes: list[Node] = []
    for node_name, (definition, inputs) in invocations.items():
        wired: dict[str, Source] = {}
        for input_name, dependency in inputs.items():
            where = f"GraphDefinition '{graph_name}', input '{input_name}' of node '{node_name}'"
            if input_name not in definition.input_names:
                raise DefinitionError(
                    f"{where}: '{definition.name}' has no such input "
                    f"(inputs: {list(definition.input_names)})"
                )
            wired[input_name] = _source(where, dependency, invocations)
        nodes.append(Node(node_name, definition, wired))
    by_name = {n.name: n for n in nodes}
    input_names: list[str] = []
    for mapping in input_mappings or ():
        where = f"GraphDefinition '{graph_name}', input mapping '{mapping.graph_input_name}'"
        node = by_name.get(mapping.mapped_node_name)
        if node is None or mapping.mapped_node_input_name not in node.definition.input_names:
            raise DefinitionError(
                f"{where}: maps to input '{mapping.mapped_node_input_name}' of node "
                f"'{mapping.mapped_node_name}', which the graph does not have"
            )
        if mapping.mapped_node_input_name in node.inputs:
            raise DefinitionError(f"{where}: that input is already fed by a dependency")
        node.inputs[mapping.mapped_node_input_name] = GraphInput(mapping.graph_input_name)
        if mapping.graph_input_name not in input_names:
            input_names.append(mapping.graph_input_name)
    outputs: dict[str, Source] = {}
    for out in output_mappings or ():
        node = by_name.get(out.mapped_node_name)
        if node is None or out.mapped_node_output_name not in node.definition.output_names:
            raise DefinitionError(
                f"GraphDefinition '{graph_name}', output mapping '{out.graph_output_name}': "
                f"node '{out.mapped_node_name}' has no output '{out.mapped_node_output_name}'"
            )
        outputs[out.graph_output_name] = OutputHandle(
            out.mapped_node_name, out.mapped_node_output_name
        )
    return WiredGraph(_in_dependency_order(graph_name, nodes), tuple(input_names), outputs)

"""Graphs of ops (`@graph`, `@job`): a body that calls ops is run once, when it is defined, to
record which op output feeds which input; `walk_graph` later calls the ops in that order."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, overload

from bakehouse.authoring.dependencies import (
    DependencyMap,
    InputMapping,
    OutputMapping,
    wire,
)
from bakehouse.authoring.ops import DEFAULT_OUTPUT, OpDefinition, refuse_unsupported
from bakehouse.authoring.source import caller_source, source_of_function
from bakehouse.errors import DefinitionError, SourceLocation


@dataclass(frozen=True)
class OutputHandle:
    """One output of one node, as a graph body passes it to the next op."""

    node: str
    output: str = DEFAULT_OUTPUT


@dataclass(frozen=True)
class GraphInput:
    """An input of the graph itself, fed to the ops inside it."""

    name: str


# Where a node input's value comes from; a list fans several outputs into one input.
Source = OutputHandle | GraphInput | tuple[Any, ...]


class MultipleOutputs(tuple[OutputHandle, ...]):
    """The outputs of a node with several, by position or by name (``a, b = split()``,
    ``split().left``)."""

    def __getattr__(self, name: str) -> OutputHandle:
        for handle in self:
            if handle.output == name:
                return handle
        raise AttributeError(f"no output named {name!r} (outputs: {[h.output for h in self]})")


@dataclass
class Node:
    """One use of an op (or graph) in a graph, under a name unique in it."""

    name: str
    definition: OpDefinition | GraphDefinition
    inputs: dict[str, Source] = field(default_factory=dict)


class _Composition:
    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}


_STACK: list[_Composition] = []


def composing() -> bool:
    """True while a graph or job body is being run to record its nodes."""
    return bool(_STACK)


def _as_source(value: Any, where: str) -> Source:
    if isinstance(value, (OutputHandle, GraphInput)):
        return value
    if isinstance(value, (list, tuple)) and not isinstance(value, MultipleOutputs):
        return tuple(_as_source(v, where) for v in value)
    raise DefinitionError(
        f"{where}: got {value!r}; inside a graph or job body, pass the outputs of other ops "
        "(or the graph's own inputs), not values"
    )


def invoke_in_composition(
    definition: OpDefinition | GraphDefinition,
    alias: str | None,
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
) -> OutputHandle | MultipleOutputs | None:
    """Add a node for `definition` to the graph being composed; its output handle(s)."""
    composition = _STACK[-1]
    base = alias or definition.name
    name, n = base, 1
    while name in composition.nodes:  # the same op called twice: op, op_2, op_3, as Dagster
        n += 1
        name = f"{base}_{n}"
    names = definition.input_names
    if len(args) > len(names):
        raise DefinitionError(
            f"'{name}' takes inputs {list(names)} but was given {len(args)} values"
        )
    unknown = sorted(set(kwargs) - set(names))
    if unknown:
        raise DefinitionError(f"'{name}' has no inputs {unknown} (inputs: {list(names)})")
    given = {**dict(zip(names, args, strict=False)), **kwargs}
    composition.nodes[name] = Node(
        name, definition, {k: _as_source(v, f"input '{k}' of '{name}'") for k, v in given.items()}
    )
    outs = list(definition.output_names)
    if not outs:
        return None
    if len(outs) == 1:
        return OutputHandle(name, outs[0])
    return MultipleOutputs(OutputHandle(name, o) for o in outs)


class GraphDefinition:
    """Ops wired together: nodes in the order they were called, which is a dependency order."""

    def __init__(
        self,
        name: str,
        description: str | None = None,
        node_defs: Sequence[OpDefinition | GraphDefinition] | None = None,
        dependencies: DependencyMap | None = None,
        input_mappings: Sequence[InputMapping] | None = None,
        output_mappings: Sequence[OutputMapping] | None = None,
        config: Any = None,
        tags: Mapping[str, str] | None = None,
        *,
        nodes: Iterable[Node] | None = None,
        input_names: Iterable[str] = (),
        outputs: Mapping[str, Source] | None = None,
        source: SourceLocation | None = None,
        **others: Any,
    ) -> None:
        """Dagster's constructor (`node_defs` wired by `dependencies`, with input and output
        mappings) or, as `@graph` builds it, the recorded `nodes` themselves."""
        refuse_unsupported(f"GraphDefinition '{name}'", {"config": config, **others})
        if node_defs is not None:
            if nodes is not None:
                raise DefinitionError(
                    f"GraphDefinition '{name}': give node_defs (with dependencies) or nodes"
                )
            wired = wire(name, node_defs, dependencies, input_mappings, output_mappings)
            nodes, input_names, outputs = wired.nodes, wired.input_names, wired.outputs
            source = source or caller_source()
        elif dependencies or input_mappings or output_mappings:
            raise DefinitionError(
                f"GraphDefinition '{name}': dependencies and mappings need node_defs"
            )
        self.name = name
        self.nodes = list(nodes or ())
        self.input_names = tuple(input_names)
        self.outputs = dict(outputs or {})
        self.tags = dict(tags or {})
        self.output_names = tuple(self.outputs)
        self.description = description
        self.source = source

    @property
    def node_names(self) -> list[str]:
        """Every node's name, nested graphs' ops as ``graph.op``."""
        found: list[str] = []
        for node in self.nodes:
            if isinstance(node.definition, GraphDefinition):
                found.extend(f"{node.name}.{n}" for n in node.definition.node_names)
            else:
                found.append(node.name)
        return found

    @property
    def ops(self) -> list[OpDefinition]:
        """Every op used, nested graphs' included."""
        found: list[OpDefinition] = []
        for node in self.nodes:
            if isinstance(node.definition, GraphDefinition):
                found.extend(node.definition.ops)
            else:
                found.append(node.definition)
        return found

    @property
    def required_resource_keys(self) -> frozenset[str]:
        """The resources its ops need."""
        return frozenset(k for o in self.ops for k in o.required_resource_keys)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """In a graph or job body: add this graph as a node."""
        if not composing():
            raise DefinitionError(
                f"graph '{self.name}' runs inside a job: graph.to_job().execute_in_process() or "
                "graph.execute_in_process()"
            )
        return invoke_in_composition(self, None, args, kwargs)

    def to_job(
        self,
        name: str | None = None,
        description: str | None = None,
        resource_defs: Mapping[str, Any] | None = None,
        config: Any = None,
        tags: Mapping[str, str] | None = None,
        hooks: Iterable[Any] | None = None,
        executor_def: Any = None,
        op_retry_policy: Any = None,
        **others: Any,
    ) -> JobDefinition:
        """A job that runs this graph; `op_retry_policy` retries its ops without a policy of
        their own."""
        refuse_unsupported("to_job", others)
        from bakehouse.authoring.jobs import checked_hooks, checked_retry_policy

        job_name = name or self.name
        source = caller_source()
        return JobDefinition(
            name=job_name,
            graph=self,
            description=description or self.description,
            resource_defs=resource_defs,
            config=config,
            tags=tags,
            hooks=checked_hooks(hooks, f"job '{job_name}'", source),
            executor_def=executor_def,
            source=source,
            op_retry_policy=checked_retry_policy(op_retry_policy, job_name, source),
        )

    def execute_in_process(
        self,
        run_config: Any = None,
        resources: Mapping[str, Any] | None = None,
        instance: Any = None,
        raise_on_error: bool = True,
        input_values: Mapping[str, Any] | None = None,
    ) -> Any:
        """Run the graph in this process, as a job of its own."""
        return self.to_job(resource_defs=resources).execute_in_process(
            run_config, instance=instance, raise_on_error=raise_on_error, input_values=input_values
        )

    def __repr__(self) -> str:
        return f"<GraphDefinition {self.name}: {', '.join(n.name for n in self.nodes)}>"


def compose(
    fn: Callable[..., Any], name: str, out: Mapping[str, Any] | None = None
) -> GraphDefinition:
    """Run the body `fn` with placeholders for its parameters, recording the ops it calls."""
    input_names = tuple(inspect.signature(fn).parameters)
    _STACK.append(_Composition())
    try:
        returned = fn(*(GraphInput(n) for n in input_names))
    finally:
        composition = _STACK.pop()
    where = f"graph '{name}'"
    outputs: dict[str, Source] = {}
    if isinstance(returned, Mapping):
        outputs = {str(k): _as_source(v, where) for k, v in returned.items()}
    elif isinstance(returned, MultipleOutputs) or (isinstance(returned, tuple) and out):
        names = list(out or ()) or [h.output for h in returned]
        outputs = {n: _as_source(v, where) for n, v in zip(names, returned, strict=False)}
    elif returned is not None:
        outputs = {next(iter(out or ()), DEFAULT_OUTPUT): _as_source(returned, where)}
    return GraphDefinition(
        name=name,
        nodes=composition.nodes.values(),
        input_names=input_names,
        outputs=outputs,
        description=inspect.getdoc(fn),
        source=source_of_function(fn),
    )


@overload
def graph(fn: Callable[..., Any], /) -> GraphDefinition: ...


@overload
def graph(
    fn: None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    out: Mapping[str, Any] | None = None,
    **others: Any,
) -> Callable[[Callable[..., Any]], GraphDefinition]: ...


def graph(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    out: Mapping[str, Any] | None = None,
    **others: Any,
) -> GraphDefinition | Callable[[Callable[..., Any]], GraphDefinition]:
    """Decorate a body that calls ops into a graph (reusable in jobs and other graphs)."""
    refuse_unsupported("@graph", others)

    def build(f: Callable[..., Any]) -> GraphDefinition:
        built = compose(f, name or f.__name__, out)
        built.description = description or built.description
        return built

    return build(fn) if fn is not None else build


class JobDefinition:
    """A graph of ops with the resources, config and hooks its runs use (`@job`)."""

    def __init__(
        self,
        *,
        name: str,
        graph: GraphDefinition,
        description: str | None = None,
        resource_defs: Mapping[str, Any] | None = None,
        config: Any = None,
        tags: Mapping[str, str] | None = None,
        hooks: tuple[Any, ...] = (),
        executor_def: Any = None,
        source: SourceLocation | None = None,
        op_retry_policy: Any = None,
    ) -> None:
        self.name = name
        self.graph = graph
        # The RetryPolicy of each op of its runs that has none of its own.
        self.op_retry_policy = op_retry_policy
        self.description = description
        self.resource_defs = dict(resource_defs or {})
        to_dict = getattr(config, "to_config_dict", None)
        self.config = to_dict() if callable(to_dict) else config
        self.tags = dict(tags or {})
        self.hooks = hooks
        self.executor_def = executor_def
        self.source = source or graph.source
        self.partitions_def = None
        # The Definitions holding the job, whose resources its runs also get.
        self._defs: Any = None

    def bind(self, defs: Any) -> None:
        """Remember the `Definitions` holding this job (`Definitions.get_job_def` does)."""
        self._defs = defs

    def resources_with(self, defs_resources: Mapping[str, Any]) -> dict[str, Any]:
        """The resources its runs get: the Definitions' under the job's own."""
        return {**defs_resources, **self.resource_defs}

    @property
    def op_names(self) -> list[str]:
        """Every op node of the job (nested as ``graph.op``)."""
        return self.graph.node_names

    def execute_in_process(
        self,
        run_config: Any = None,
        *,
        instance: Any = None,
        resources: Mapping[str, Any] | None = None,
        raise_on_error: bool = True,
        tags: Mapping[str, str] | None = None,
        input_values: Mapping[str, Any] | None = None,
        partition_key: str | None = None,
    ) -> Any:
        """Run the job's ops in this process; the result has `success` and `output_for_node`.

        Jobs of ops are not partitioned in bakehouse: a `partition_key` is refused.
        """
        if partition_key is not None:
            raise DefinitionError(
                f"job '{self.name}' is a job of ops, which bakehouse does not partition; "
                "partition assets instead"
            )
        # The authoring object runs the engine only on request, as Definitions' jobs do.
        from bakehouse.execution.op_job import execute_op_job_in_process

        bound = getattr(self._defs, "resources", None) or {}
        return execute_op_job_in_process(
            self,
            run_config=run_config if run_config is not None else self.config,
            instance=instance,
            resources={**bound, **(resources or {})},
            raise_on_error=raise_on_error,
            tags=tags,
            input_values=input_values,
        )

    def __repr__(self) -> str:
        return f"<JobDefinition {self.name}: ops {', '.join(self.op_names)}>"


@overload
def job(fn: Callable[..., Any], /) -> JobDefinition: ...


@overload
def job(
    fn: None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    resource_defs: Mapping[str, Any] | None = None,
    config: Any = None,
    tags: Mapping[str, str] | None = None,
    hooks: Iterable[Any] | None = None,
    executor_def: Any = None,
    op_retry_policy: Any = None,
    **others: Any,
) -> Callable[[Callable[..., Any]], JobDefinition]: ...


def job(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    resource_defs: Mapping[str, Any] | None = None,
    config: Any = None,
    tags: Mapping[str, str] | None = None,
    hooks: Iterable[Any] | None = None,
    executor_def: Any = None,
    op_retry_policy: Any = None,
    **others: Any,
) -> JobDefinition | Callable[[Callable[..., Any]], JobDefinition]:
    """Decorate a body that calls ops into a job."""
    refuse_unsupported("@job", others)

    def build(f: Callable[..., Any]) -> JobDefinition:
        job_name = name or f.__name__
        return compose(f, job_name).to_job(
            description=description,
            resource_defs=resource_defs,
            config=config,
            tags=tags,
            hooks=hooks,
            executor_def=executor_def,
            op_retry_policy=op_retry_policy,
        )

    return build(fn) if fn is not None else build


class StepRunner(Protocol):
    """What `walk_graph` calls for each op node (a run in execution, a graph asset's step)."""

    def run(
        self, step_key: str, op_def: OpDefinition, inputs: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Run one op with its input values; its outputs by name, or None if it failed."""

    def skip(self, step_key: str, cause: str) -> None:
        """Record that `step_key` did not run because `cause` produced nothing."""


def _resolve(
    source: Source,
    inputs: Mapping[str, Any],
    values: Mapping[tuple[str, str], Any],
    prefix: str,
    missing: list[str],
) -> Any:
    """The value `source` holds now; what is not there yet is added to `missing`."""
    if isinstance(source, GraphInput):
        if source.name not in inputs:
            missing.append(f"graph input {source.name}")
        return inputs.get(source.name)
    if isinstance(source, OutputHandle):
        key = (f"{prefix}{source.node}", source.output)
        if key not in values:
            missing.append(key[0])
        return values.get(key)
    return [_resolve(s, inputs, values, prefix, missing) for s in source]


def walk_graph(
    graph_def: GraphDefinition,
    inputs: Mapping[str, Any],
    runner: StepRunner,
    values: dict[tuple[str, str], Any],
    prefix: str = "",
) -> dict[str, Any]:
    """Run every node of `graph_def` in order, keeping each output in `values` by (step key,
    output name); returns the graph's own outputs that were produced."""
    for node in graph_def.nodes:
        step_key = f"{prefix}{node.name}"
        missing: list[str] = []
        given = {
            name: _resolve(source, inputs, values, prefix, missing)
            for name, source in node.inputs.items()
        }
        if missing:
            runner.skip(step_key, missing[0])
            continue
        if isinstance(node.definition, GraphDefinition):
            produced = walk_graph(node.definition, given, runner, values, prefix=f"{step_key}.")
        else:
            produced = runner.run(step_key, node.definition, given) or {}
        for output, value in produced.items():
            values[(step_key, output)] = value
    result: dict[str, Any] = {}
    for name, source in graph_def.outputs.items():
        if isinstance(source, OutputHandle) and (f"{prefix}{source.node}", source.output) in values:
            result[name] = values[(f"{prefix}{source.node}", source.output)]
        elif isinstance(source, GraphInput) and source.name in inputs:
            result[name] = inputs[source.name]
    return result

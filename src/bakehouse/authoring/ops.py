"""Ops: functions composed into graphs and jobs (`@op`, `In`, `Out`), Dagster's task-style
API beside assets. An op's inputs come from other ops' outputs, not from stored assets."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, overload

from bakehouse.authoring.assets import _annotations, _is_config, _is_context, _is_resource
from bakehouse.authoring.dagster_types import DagsterType, dagster_type_of_annotation
from bakehouse.authoring.results import Output
from bakehouse.authoring.retries import RetryPolicy
from bakehouse.authoring.source import source_of_function
from bakehouse.errors import DefinitionError, ExecutionError, RunConfigError, SourceLocation

DEFAULT_OUTPUT = "result"


class _NoDefault:
    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Any = _NoDefault()


class Nothing:
    """The type of an input that carries no value, only order: ``ins={"after":
    In(Nothing)}`` makes an op wait for another without a parameter for it."""


@dataclass(frozen=True)
class In:
    """An op's input: its type, description, and a default used when nothing feeds it."""

    dagster_type: Any = None
    description: str | None = None
    default_value: Any = NO_DEFAULT
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Out:
    """An op's output: its type and description (`is_required=False`: it may be skipped)."""

    dagster_type: Any = None
    description: str | None = None
    is_required: bool = True
    io_manager_key: str = "io_manager"
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OpParams:
    """What an op function's signature asks for, by parameter name."""

    context: str | None
    inputs: tuple[str, ...]
    resources: tuple[str, ...]
    config: tuple[str, type] | None
    defaults: Mapping[str, Any]
    # Inputs of type `Nothing`: wired in graphs for order, never passed to the function.
    ordering: tuple[str, ...] = ()


def _output_types(fn: Callable[..., Any], outs: Mapping[str, Out]) -> dict[str, DagsterType]:
    annotation = _annotations(fn).get("return") if len(outs) == 1 else None
    found: dict[str, DagsterType] = {}
    for name, out in outs.items():
        given = out.dagster_type if out.dagster_type is not None else annotation
        checked = None if given is Nothing else dagster_type_of_annotation(given)
        if checked is not None:
            found[name] = checked
    return found


def _parse_op_params(
    fn: Callable[..., Any], ins: Mapping[str, In], source: SourceLocation | None
) -> OpParams:
    hints = _annotations(fn)
    context: str | None = None
    inputs: list[str] = []
    resources: list[str] = []
    config: tuple[str, type] | None = None
    defaults: dict[str, Any] = {}
    for position, (name, param) in enumerate(inspect.signature(fn).parameters.items()):
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise DefinitionError(f"op '{fn.__name__}': *args and **kwargs are not supported",
                                  source=source)  # fmt: skip
        annotation = hints.get(name, param.annotation)
        if name not in ins and position == 0 and _is_context(name, annotation):
            context = name
        elif name not in ins and _is_resource(annotation):
            resources.append(name)
        elif name not in ins and _is_config(annotation):
            config = (name, annotation)
        else:
            inputs.append(name)
            declared = ins.get(name)
            if declared is not None and declared.default_value is not NO_DEFAULT:
                defaults[name] = declared.default_value
            elif param.default is not param.empty:
                defaults[name] = param.default
    ordering = tuple(n for n, i in ins.items() if i.dagster_type is Nothing and n not in inputs)
    unknown = sorted(set(ins) - set(inputs) - set(ordering))
    if unknown:
        raise DefinitionError(
            f"op '{fn.__name__}': ins names {unknown}, which are not parameters of the function",
            source=source,
        )
    return OpParams(context, tuple(inputs), tuple(resources), config, defaults, ordering)


class OpDefinition:
    """A function with named inputs and outputs, run as one step of a job or graph."""

    def __init__(
        self,
        *,
        fn: Callable[..., Any],
        name: str,
        ins: Mapping[str, In] | None = None,
        outs: Mapping[str, Out] | None = None,
        description: str | None = None,
        config_schema: Any = None,
        required_resource_keys: Iterable[str] | None = None,
        tags: Mapping[str, str] | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        if retry_policy is not None and not isinstance(retry_policy, RetryPolicy):
            raise DefinitionError(
                f"op '{name}': retry_policy must be a RetryPolicy, not a "
                f"{type(retry_policy).__name__}"
            )
        self.fn = fn
        self.name = name
        self.source = source_of_function(fn)
        self.ins = dict(ins or {})
        self.outs = dict(outs) if outs else {DEFAULT_OUTPUT: Out()}
        # The type each output's value is checked against: its Out's dagster_type, or the
        # return annotation of a one-output op.
        self.output_types = _output_types(fn, self.outs)
        self.description = description
        self.config_schema = config_schema
        self.tags = dict(tags or {})
        # How a failed attempt of this op is retried (else the job's op_retry_policy).
        self.retry_policy = retry_policy
        self.params = _parse_op_params(fn, self.ins, self.source)
        self.required_resource_keys = frozenset(required_resource_keys or ()) | frozenset(
            self.params.resources
        )
        self.__name__ = name
        self.__doc__ = fn.__doc__

    @property
    def output_names(self) -> tuple[str, ...]:
        """The op's outputs, in declaration order."""
        return tuple(self.outs)

    @property
    def input_names(self) -> tuple[str, ...]:
        """The op's inputs, in the function's parameter order, then its `Nothing` inputs."""
        return self.params.inputs + self.params.ordering

    def alias(self, name: str) -> OpInvocation:
        """This op under another node name, for use in a graph (``op.alias("second")()``)."""
        return OpInvocation(self, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """In a graph or job body: add a node and return its output handle(s). Elsewhere: call
        the function directly, as a unit test does (a context is built if it takes one)."""
        from bakehouse.authoring.graphs import composing, invoke_in_composition

        if composing():
            return invoke_in_composition(self, None, args, kwargs)
        if self.params.context and self.params.context not in kwargs:
            first_is_context = args and _looks_like_context(args[0])
            if not first_is_context:
                from bakehouse.authoring.build_contexts import build_op_context

                args = (build_op_context(), *args)
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<OpDefinition {self.name}>"


def _looks_like_context(value: Any) -> bool:
    return type(value).__name__.endswith("Context")


@dataclass(frozen=True)
class OpInvocation:
    """An op called under an alias in a graph body."""

    op: OpDefinition
    alias_name: str

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Add the aliased node to the graph being composed."""
        from bakehouse.authoring.graphs import composing, invoke_in_composition

        if not composing():
            raise DefinitionError(f"op alias '{self.alias_name}' is only used inside a graph")
        return invoke_in_composition(self.op, self.alias_name, args, kwargs)


OpDecorator = Callable[[Callable[..., Any]], OpDefinition]


@overload
def op(fn: Callable[..., Any], /) -> OpDefinition: ...


@overload
def op(
    fn: None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    ins: Mapping[str, In] | None = None,
    out: Out | Mapping[str, Out] | None = None,
    config_schema: Any = None,
    required_resource_keys: Iterable[str] | None = None,
    tags: Mapping[str, str] | None = None,
    retry_policy: RetryPolicy | None = None,
    **others: Any,
) -> OpDecorator: ...


def op(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    ins: Mapping[str, In] | None = None,
    out: Out | Mapping[str, Out] | None = None,
    config_schema: Any = None,
    required_resource_keys: Iterable[str] | None = None,
    tags: Mapping[str, str] | None = None,
    retry_policy: RetryPolicy | None = None,
    **others: Any,
) -> OpDefinition | OpDecorator:
    """Decorate a function as an op; `out` is one `Out` or ``{name: Out}`` for several."""
    refuse_unsupported("@op", others)

    def build(f: Callable[..., Any]) -> OpDefinition:
        outs = {DEFAULT_OUTPUT: out} if isinstance(out, Out) else out
        return OpDefinition(
            fn=f,
            name=name or f.__name__,
            ins=ins,
            outs=outs,
            description=description or inspect.getdoc(f),
            config_schema=config_schema,
            required_resource_keys=required_resource_keys,
            tags=tags,
            retry_policy=retry_policy,
        )

    return build(fn) if fn is not None else build


# Arguments of Dagster's decorators that change nothing about how bakehouse runs the op or job.
_DESCRIPTIVE = frozenset({"code_version", "pool", "metadata", "owners", "kinds", "input_defs"})


def refuse_unsupported(where: str, given: Mapping[str, Any]) -> None:
    """Raise for arguments bakehouse does not honour (beyond descriptive ones), rather than
    run differently from what the code asks."""
    unsupported = sorted(k for k, v in given.items() if k not in _DESCRIPTIVE and v is not None)
    if unsupported:
        raise DefinitionError(f"{where}: bakehouse does not support {unsupported} here")


def op_config_from(op_def: OpDefinition, step_key: str, ops_config: Mapping[str, Any]) -> Any:
    """The config step `step_key` gets from ``run_config["ops"]``: a `Config` object for a
    config parameter, else the dict given."""
    entry = ops_config.get(step_key, ops_config.get(op_def.name))
    values = entry.get("config") if isinstance(entry, Mapping) else entry
    if op_def.params.config is not None:
        cls = op_def.params.config[1]
        if isinstance(values, cls):
            return values
        try:
            return cls(**dict(values or {}))
        except Exception as exc:  # noqa: BLE001 - pydantic names each field at fault
            raise RunConfigError(f"invalid config for op '{step_key}': {exc}") from None
    if values is None and op_def.config_schema is not None:
        raise RunConfigError(
            f"op '{step_key}' needs config: run_config={{'ops': {{'{step_key}': "
            "{'config': {...}}}}"
        )
    return values


def call_op(
    op_def: OpDefinition,
    step_key: str,
    given: Mapping[str, Any],
    *,
    context: Any,
    resources: Mapping[str, Any],
    config: Any,
    configured_inputs: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Call the op's function with its inputs (fed, else from run config, else defaults),
    context, resources and config; its outputs by name."""
    params = op_def.params
    kwargs: dict[str, Any] = {}
    for name in params.inputs:
        if name in given:
            kwargs[name] = given[name]
        elif configured_inputs and name in configured_inputs:
            kwargs[name] = configured_inputs[name]
        elif name in params.defaults:
            kwargs[name] = params.defaults[name]
        else:
            raise ExecutionError(
                f"op '{step_key}': input '{name}' is fed by no op, default or run config "
                f"(run_config={{'ops': {{'{step_key}': {{'inputs': {{'{name}': ...}}}}}}}})"
            )
    if params.context:
        kwargs[params.context] = context
    for name in params.resources:
        kwargs[name] = resources[name]
    if params.config is not None:
        kwargs[params.config[0]] = config
    return op_outputs(op_def, op_def.fn(**kwargs))


def op_outputs(op_def: OpDefinition, returned: Any) -> dict[str, Any]:
    """The values an op produced, by output name, from what its function returned or yielded
    (a value, an `Output`, a tuple for several outputs, or `Output`s with output names)."""
    names = list(op_def.outs)
    if inspect.isgenerator(returned):
        produced: dict[str, Any] = {}
        for item in returned:
            if isinstance(item, Output):
                produced[item.output_name or DEFAULT_OUTPUT] = item.value
        return produced
    if isinstance(returned, Output):
        single = len(names) == 1 and returned.output_name == DEFAULT_OUTPUT
        return {names[0] if single else returned.output_name: returned.value}
    if len(names) == 1:
        return {names[0]: returned}
    if returned is None and not any(o.is_required for o in op_def.outs.values()):
        return {}
    if not isinstance(returned, tuple) or len(returned) != len(names):
        raise ExecutionError(
            f"op '{op_def.name}' has outputs {names}: return a tuple of {len(names)} values or "
            "yield dg.Output(value, output_name=...) for each"
        )
    return {
        n: (v.value if isinstance(v, Output) else v) for n, v in zip(names, returned, strict=True)
    }

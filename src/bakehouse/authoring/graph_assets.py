"""Assets computed by a graph of ops (`@graph_asset`, `@graph_multi_asset`): the ops run one
after another inside the asset's one step, values passed in memory."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, overload

from bakehouse.authoring.assets import AssetOut, AssetsDefinition, asset, multi_asset
from bakehouse.authoring.context import AssetExecutionContext
from bakehouse.authoring.graphs import GraphDefinition, compose, walk_graph
from bakehouse.authoring.ops import OpDefinition, call_op, op_config_from
from bakehouse.authoring.results import Output
from bakehouse.errors import ExecutionError


class _OpsInStep:
    """Runs a graph asset's ops inside its step: an op that raises fails the step."""

    def __init__(self, context: AssetExecutionContext) -> None:
        self.context = context

    def run(
        self, step_key: str, op_def: OpDefinition, inputs: dict[str, Any]
    ) -> dict[str, Any] | None:
        available = self.context.resources.original_resource_dict()
        resources = {k: available[k] for k in op_def.required_resource_keys}
        # The asset's step config holds its ops' (``{"ops": {asset: {"ops": {op: ...}}}}``).
        nested = self.context.op_config
        config = op_config_from(op_def, step_key, nested if isinstance(nested, Mapping) else {})
        op_context = AssetExecutionContext(
            run_id=self.context.run_id,
            asset_keys=list(self.context.assets_keys),
            step_key=f"{self.context.step_key}.{step_key}",
            resources=resources,
            op_config=config,
            log=self.context.log,
            instance=self.context.instance,
            run_tags=self.context.run_tags,
        )
        return call_op(
            op_def, step_key, inputs, context=op_context, resources=resources, config=config
        )

    def skip(self, step_key: str, cause: str) -> None:
        raise ExecutionError(f"op '{step_key}' got no input: '{cause}' produced none")


def _compute_fn(
    fn: Callable[..., Any], graph: GraphDefinition, produce: Callable[[dict[str, Any]], Any]
) -> Callable[..., Any]:
    """An asset function taking the graph's inputs (upstream assets) that runs the graph."""

    def compute(context: AssetExecutionContext, **inputs: Any) -> Any:
        return produce(walk_graph(graph, inputs, _OpsInStep(context), {}))

    kinds = inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY
    compute.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("context", kinds[0])]
        + [inspect.Parameter(name, kinds[1]) for name in graph.input_names]
    )
    compute.__name__ = fn.__name__
    compute.__qualname__ = fn.__qualname__
    compute.__doc__ = fn.__doc__
    compute.__module__ = fn.__module__
    compute.__wrapped__ = fn  # type: ignore[attr-defined]  # its file:line is the user's
    # Lets the engine take the ops' config for this asset's step (see `graph_of`).
    compute.graph_of_ops = graph  # type: ignore[attr-defined]
    return compute


@overload
def graph_asset(compose_fn: Callable[..., Any], /) -> AssetsDefinition: ...


@overload
def graph_asset(
    compose_fn: None = None, **kwargs: Any
) -> Callable[[Callable[..., Any]], AssetsDefinition]: ...


def graph_asset(
    compose_fn: Callable[..., Any] | None = None, **kwargs: Any
) -> AssetsDefinition | Callable[[Callable[..., Any]], AssetsDefinition]:
    """Decorate a body that calls ops into one asset (its parameters are upstream assets);
    takes `@asset`'s arguments (`name`, `ins`, `group_name`, `partitions_def`, ...)."""

    def build(fn: Callable[..., Any]) -> AssetsDefinition:
        graph = compose(fn, kwargs.get("name") or fn.__name__)
        if len(graph.outputs) != 1:
            raise ExecutionError(f"graph_asset '{graph.name}' must return one op output")
        (output,) = graph.outputs
        compute = _compute_fn(fn, graph, lambda produced: produced[output])
        keys = set(kwargs.pop("required_resource_keys", None) or ())
        return asset(**kwargs, required_resource_keys=keys | graph.required_resource_keys)(compute)

    return build(compose_fn) if compose_fn is not None else build


def graph_multi_asset(
    *, outs: Mapping[str, AssetOut], **kwargs: Any
) -> Callable[[Callable[..., Any]], AssetsDefinition]:
    """Decorate a body that calls ops into several assets: it returns a dict (or tuple, in the
    order of `outs`) of op outputs; takes `@multi_asset`'s arguments."""

    def build(fn: Callable[..., Any]) -> AssetsDefinition:
        graph = compose(fn, kwargs.get("name") or fn.__name__, out=outs)

        def produce(produced: dict[str, Any]) -> Any:
            return (Output(produced[name], output_name=name) for name in outs)

        compute = _compute_fn(fn, graph, produce)
        keys = set(kwargs.pop("required_resource_keys", None) or ())
        return multi_asset(
            outs=outs, **kwargs, required_resource_keys=keys | graph.required_resource_keys
        )(compute)

    return build


def graph_of(assets_def: Any) -> GraphDefinition | None:
    """The graph of ops a graph-backed asset runs, else None."""
    graph = getattr(getattr(assets_def, "fn", None), "graph_of_ops", None)
    return graph if isinstance(graph, GraphDefinition) else None

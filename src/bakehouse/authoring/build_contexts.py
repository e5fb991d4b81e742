"""Contexts built by hand for calling user functions directly in tests: op, asset check and
resource init contexts, and the resources they are given ready to use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bakehouse.authoring.context import AssetExecutionContext, InitResourceContext
from bakehouse.graph.keys import CoercibleToAssetKey, coerce_key


def direct_resources(resources: Mapping[str, Any] | None, instance: Any = None) -> dict[str, Any]:
    """`resources` as a function called directly receives them: configurable resources with
    their `EnvVar` fields read, `@resource` definitions built (with the others they require)."""
    from bakehouse.authoring.resource_definition import ResourceDefinition

    given = dict(resources or {})
    ready: dict[str, Any] = {}

    def build(name: str) -> Any:
        if name in ready:
            return ready[name]
        resource = given[name]
        if isinstance(resource, ResourceDefinition):
            deps = {k: build(k) for k in sorted(resource.required_resource_keys) if k in given}
            context = build_init_resource_context(resource.config_for(name, None), deps, instance)
            # Entered and left open: a test's resources live as long as its context.
            ready[name] = resource.initialize(context).__enter__()
        else:
            resolve = getattr(resource, "with_env_vars_resolved", None)
            ready[name] = resolve(name) if callable(resolve) else resource
        return ready[name]

    for name in given:
        build(name)
    return ready


def build_init_resource_context(
    config: Any = None,
    resources: Mapping[str, Any] | None = None,
    instance: Any = None,
) -> InitResourceContext:
    """A context for calling a resource function in a test."""
    return InitResourceContext(
        resource_key="",
        run_id=None,
        instance=instance,
        resource_config=config,
        resources=resources,
    )


def build_op_context(
    resources: Mapping[str, Any] | None = None,
    op_config: Any = None,
    instance: Any = None,
    partition_key: str | None = None,
    run_tags: Mapping[str, str] | None = None,
) -> AssetExecutionContext:
    """A context for calling an op (or asset) function directly in a test."""
    return AssetExecutionContext(
        run_id="direct-invocation",
        asset_keys=[],
        step_key="direct_invocation",
        resources=direct_resources(resources, instance),
        op_config=op_config,
        instance=instance,
        partition_key=partition_key,
        run_tags=run_tags,
    )


def build_asset_check_context(
    resources: Mapping[str, Any] | None = None,
    asset_config: Any = None,
    instance: Any = None,
    asset_key: CoercibleToAssetKey = "direct_invocation",
) -> AssetExecutionContext:
    """A context for calling an asset check function directly in a test."""
    from bakehouse.authoring.asset_checks import AssetCheckExecutionContext

    key = coerce_key(asset_key)
    return AssetCheckExecutionContext(
        check_specs=(),
        run_id="direct-invocation",
        asset_keys=[key],
        step_key=key.to_python_identifier(),
        resources=direct_resources(resources, instance),
        op_config=asset_config,
        instance=instance,
    )

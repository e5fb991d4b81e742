"""Setting resources up for a run, and `build_resources` for tests: configurable resources get
their environment variables read and their setup called; function-style resources
(`@resource`) their config and the resources they require, each once."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from bakehouse.authoring.context import InitResourceContext, Resources
from bakehouse.authoring.resource_definition import ResourceDefinition
from bakehouse.errors import BakehouseError, ExecutionError, ResourceSetupError

if TYPE_CHECKING:
    from bakehouse.execution.instance import DagsterInstance
    from bakehouse.storage.protocol import InstanceProtocol

# Builds the init context of resource `key` from its config and the resources it requires.
InitContextFactory = Callable[[str, Any, Mapping[str, Any]], InitResourceContext]


class ResourceOpener:
    """Opens resources by key into `ready`, each once, torn down when `stack` closes."""

    def __init__(
        self,
        available: Mapping[str, Any],
        stack: contextlib.ExitStack,
        make_context: InitContextFactory,
        resource_config: Mapping[str, Any] | None = None,
    ) -> None:
        self._available = available
        self._stack = stack
        self._make_context = make_context
        self._config = dict(resource_config or {})
        self.ready: dict[str, Any] = {}
        self._opening: list[str] = []

    def open(self, key: str) -> Any:
        """The set-up value of resource `key` (set up now if it was not yet)."""
        if key in self.ready:
            return self.ready[key]
        if key in self._opening:
            cycle = " -> ".join([*self._opening, key])
            raise ExecutionError(f"resources require each other in a cycle: {cycle}")
        if key not in self._available:
            raise ExecutionError(
                f"resource '{key}' is required but not provided "
                f"(resources: {', '.join(sorted(self._available)) or 'none'})"
            )
        self._opening.append(key)
        try:
            self.ready[key] = self._set_up(key, self._available[key])
        finally:
            self._opening.pop()
        return self.ready[key]

    def _set_up(self, key: str, resource: Any) -> Any:
        # No user class can derive from ConfigurableResource unless its module was imported;
        # asking sys.modules keeps pydantic out of runs that use no configurable resources.
        module = sys.modules.get("bakehouse.authoring.resources")
        configurable = getattr(module, "ConfigurableResource", None)
        is_configurable = configurable is not None and isinstance(resource, configurable)
        if not is_configurable and not isinstance(resource, ResourceDefinition):
            return resource
        try:
            if isinstance(resource, ResourceDefinition):
                deps = {k: self.open(k) for k in sorted(resource.required_resource_keys)}
                entry = self._config.get(key)
                given = entry.get("config") if isinstance(entry, Mapping) else entry
                config = resource.config_for(key, given)
                return self._stack.enter_context(
                    resource.initialize(self._make_context(key, config, deps))
                )
            resolved = resource.with_env_vars_resolved(key)
            return self._stack.enter_context(
                resolved.yield_for_execution(self._make_context(key, None, {}))
            )
        except BakehouseError:
            raise
        except Exception as exc:
            raise ResourceSetupError(
                f"resource '{key}' failed to initialize: {exc}",
                resource_key=key,
                user_exception=exc,
            ) from exc


@contextlib.contextmanager
def build_resources(
    resources: Mapping[str, Any],
    instance: DagsterInstance | InstanceProtocol | None = None,
    resource_config: Mapping[str, Any] | None = None,
) -> Iterator[Resources]:
    """Set up `resources` as a run would, yield them by key as attributes, tear them down
    on exit (Dagster's test helper)."""
    with contextlib.ExitStack() as stack:
        opener = ResourceOpener(
            resources,
            stack,
            lambda key, config, deps: InitResourceContext(
                resource_key=key,
                run_id=None,
                instance=instance,
                resource_config=config,
                resources=deps,
            ),
            resource_config,
        )
        for key in resources:
            opener.open(key)
        yield Resources(opener.ready)

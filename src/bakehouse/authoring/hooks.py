"""Hooks: functions a job calls after each of its steps succeeds or fails (`@success_hook`,
`@failure_hook`), e.g. to send a message."""

from __future__ import annotations

import enum
import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, overload

from bakehouse.authoring.context import Resources, RunLogger
from bakehouse.errors import DefinitionError


class HookKind(str, enum.Enum):
    """When a hook runs."""

    SUCCESS = "success"
    FAILURE = "failure"


@dataclass(frozen=True)
class OpInfo:
    """The step a hook runs for, as ``context.op`` (``context.op.name``)."""

    name: str


class HookContext:
    """What a hook function receives: the step, its run, resources, logger and, after a
    failure, the exception (`op_exception`)."""

    def __init__(
        self,
        *,
        hook_name: str,
        step_key: str,
        run_id: str,
        job_name: str | None = None,
        resources: Mapping[str, Any] | None = None,
        log: RunLogger | None = None,
        instance: Any = None,
        op_exception: BaseException | None = None,
        op_config: Any = None,
    ) -> None:
        self.hook_def_name = hook_name
        self.step_key = step_key
        self.op = OpInfo(step_key)
        self.run_id = run_id
        self.job_name = job_name
        self.resources = Resources(resources or {})
        self.log = log or RunLogger()
        self.instance = instance
        self.op_exception = op_exception
        self.op_config = op_config


HookFunction = Callable[..., Any]


class HookDefinition:
    """A hook: `hook_fn(context)` called after each step of the jobs it is applied to, on
    success or on failure (`kind`)."""

    def __init__(
        self,
        *,
        name: str,
        hook_fn: HookFunction,
        required_resource_keys: Iterable[str] | None = None,
        kind: HookKind = HookKind.SUCCESS,
        decorated_fn: HookFunction | None = None,
    ) -> None:
        if not callable(hook_fn):
            raise DefinitionError(f"hook '{name}': hook_fn must be a function, got {hook_fn!r}")
        self.name = name
        self.hook_fn = hook_fn
        self.decorated_fn = decorated_fn or hook_fn
        self.required_resource_keys = frozenset(required_resource_keys or ())
        self.kind = HookKind(kind)

    def runs_on(self, succeeded: bool) -> bool:
        """True if this hook runs after a step that `succeeded` (or failed)."""
        return (self.kind == HookKind.SUCCESS) == succeeded

    def __call__(self, context: HookContext) -> Any:
        """Call the function, as a test does with `build_hook_context`."""
        return self.hook_fn(context)

    def __repr__(self) -> str:
        return f"<HookDefinition {self.name} ({self.kind.value})>"


class HookDecorator(Protocol):
    """`@success_hook` / `@failure_hook`, bare or with arguments (typed for users' checkers)."""

    @overload
    def __call__(self, fn: HookFunction, /) -> HookDefinition: ...

    @overload
    def __call__(
        self, *, name: str | None = None, required_resource_keys: Iterable[str] | None = None
    ) -> Callable[[HookFunction], HookDefinition]: ...


def _hook_decorator(kind: HookKind) -> HookDecorator:
    def decorator(
        fn: HookFunction | None = None,
        *,
        name: str | None = None,
        required_resource_keys: Iterable[str] | None = None,
    ) -> Any:
        def build(hook_fn: HookFunction) -> HookDefinition:
            params = inspect.signature(hook_fn).parameters
            if len(params) != 1:
                raise DefinitionError(
                    f"hook '{hook_fn.__name__}' must take one parameter, the hook context"
                )
            return HookDefinition(
                name=name or hook_fn.__name__,
                hook_fn=hook_fn,
                required_resource_keys=required_resource_keys,
                kind=kind,
            )

        return build(fn) if fn is not None else build

    return decorator


success_hook = _hook_decorator(HookKind.SUCCESS)
success_hook.__doc__ = """Decorate ``fn(context)`` to run after each step that succeeds."""
failure_hook = _hook_decorator(HookKind.FAILURE)
failure_hook.__doc__ = """Decorate ``fn(context)`` to run after each step that fails
(``context.op_exception`` is the error)."""


def build_hook_context(
    resources: Mapping[str, Any] | None = None,
    op: str | None = None,
    run_id: str = "direct-invocation",
    job_name: str | None = None,
    op_exception: BaseException | None = None,
    instance: Any = None,
) -> HookContext:
    """A context for calling a hook in a test."""
    return HookContext(
        hook_name="direct-invocation",
        step_key=op or "op",
        run_id=run_id,
        job_name=job_name,
        resources=resources,
        op_exception=op_exception,
        instance=instance,
    )

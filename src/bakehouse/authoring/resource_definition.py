"""Function-style resources (`@resource`, `ResourceDefinition`, `@io_manager`), Dagster's older
spelling beside `ConfigurableResource`: a function of an init context returns (or yields) the
resource a run uses."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Protocol, overload

from bakehouse.authoring.context import InitResourceContext
from bakehouse.errors import DefinitionError

ResourceFunction = Callable[..., Any]


def _check_config(what: str, schema: Any, config: Any) -> Any:
    """`config` checked against a schema of ``{field: type}`` (other schemas are not checked)."""
    if not isinstance(schema, Mapping):
        return config
    values = dict(config or {})
    unknown = sorted(set(values) - set(schema))
    if unknown:
        raise DefinitionError(
            f"{what}: config has unknown fields {unknown} (fields: {list(schema)})"
        )
    for name, kind in schema.items():
        if name not in values:
            raise DefinitionError(f"{what}: config field '{name}' is missing")
        if isinstance(kind, type) and not isinstance(values[name], kind):
            raise DefinitionError(
                f"{what}: config field '{name}' must be {kind.__name__}, got {values[name]!r}"
            )
    return values


class ResourceDefinition:
    """A resource built by `resource_fn(init_context)` once per run; a function that yields
    is set up before the yield and torn down after the run.

    `config_schema` (``{field: type}``, or a type for a single value) says what
    ``init_context.resource_config`` holds; `required_resource_keys` are the resources it
    uses through ``init_context.resources``.
    """

    def __init__(
        self,
        resource_fn: ResourceFunction,
        config_schema: Any = None,
        description: str | None = None,
        required_resource_keys: Iterable[str] | None = None,
    ) -> None:
        if not callable(resource_fn):
            raise DefinitionError(f"resource_fn must be a function, got {resource_fn!r}")
        self.resource_fn = resource_fn
        self.config_schema = config_schema
        self.description = description
        self.required_resource_keys = frozenset(required_resource_keys or ())
        self._configured: Any = None

    # -- the constructors Dagster's tests use -------------------------------------------------

    @staticmethod
    def hardcoded_resource(value: Any, description: str | None = None) -> ResourceDefinition:
        """A resource that is always `value`."""
        return ResourceDefinition(lambda _context: value, description=description)

    @staticmethod
    def none_resource(description: str | None = None) -> ResourceDefinition:
        """A resource that is None (a placeholder a job needs but does not use)."""
        return ResourceDefinition.hardcoded_resource(None, description)

    @staticmethod
    def mock_resource(description: str | None = None) -> ResourceDefinition:
        """A resource that is a `unittest.mock.MagicMock`, which accepts any call (for tests)."""
        from unittest import mock

        return ResourceDefinition(lambda _context: mock.MagicMock(), description=description)

    @staticmethod
    def string_resource(description: str | None = None) -> ResourceDefinition:
        """A resource that is the string its config gives."""
        return ResourceDefinition(
            lambda context: context.resource_config, config_schema=str, description=description
        )

    def configured(self, config: Any) -> ResourceDefinition:
        """This resource with its config given now instead of in the run config."""
        copy = type(self)(
            self.resource_fn, self.config_schema, self.description, self.required_resource_keys
        )
        copy._configured = config
        return copy

    # -- building the value -------------------------------------------------------------------

    def config_for(self, key: str, run_config: Any) -> Any:
        """The config the resource `key` gets: the run config's, else what `configured` gave."""
        config = run_config if run_config is not None else self._configured
        if config is None and self.config_schema is None:
            return None
        if isinstance(self.config_schema, type) and config is not None:
            if not isinstance(config, self.config_schema):
                raise DefinitionError(
                    f"resource '{key}': config must be {self.config_schema.__name__}, "
                    f"got {config!r}"
                )
            return config
        return _check_config(f"resource '{key}'", self.config_schema, config)

    @contextlib.contextmanager
    def initialize(self, context: InitResourceContext) -> Iterator[Any]:
        """Build the value for one run and tear it down (a generator's ``finally``) after."""
        if inspect.isgeneratorfunction(self.resource_fn):
            with contextlib.contextmanager(self.resource_fn)(*self._args(context)) as value:
                yield value
            return
        result = self.resource_fn(*self._args(context))
        if isinstance(result, contextlib.AbstractContextManager):
            with result as value:
                yield value
            return
        yield result

    def _args(self, context: InitResourceContext) -> tuple[Any, ...]:
        return (context,) if inspect.signature(self.resource_fn).parameters else ()

    def __call__(self, *args: Any) -> Any:
        """Call the function directly, as a test does (`build_init_resource_context`)."""
        if args:
            return self.resource_fn(*args)
        return self.resource_fn(*self._args(InitResourceContext(resource_key="", run_id=None)))

    def __repr__(self) -> str:
        name = getattr(self.resource_fn, "__name__", "resource")
        return f"<{type(self).__name__} {name}>"


class IOManagerDefinition(ResourceDefinition):
    """A resource whose value is an `IOManager` (built by `@io_manager`)."""


class ResourceDecorator(Protocol):
    """`@resource` / `@io_manager`, bare or with arguments (typed for users' checkers)."""

    @overload
    def __call__(self, fn: ResourceFunction, /) -> ResourceDefinition: ...

    @overload
    def __call__(
        self,
        config_schema: Any = None,
        description: str | None = None,
        required_resource_keys: Iterable[str] | None = None,
    ) -> Callable[[ResourceFunction], ResourceDefinition]: ...


def _resource_decorator(cls: type[ResourceDefinition]) -> ResourceDecorator:
    def decorator(
        config_schema: Any = None,
        description: str | None = None,
        required_resource_keys: Iterable[str] | None = None,
    ) -> Any:
        def build(fn: ResourceFunction) -> ResourceDefinition:
            return cls(
                fn,
                config_schema=config_schema,
                description=description or inspect.getdoc(fn),
                required_resource_keys=required_resource_keys,
            )

        # Bare `@resource`: the one argument is the function itself.
        if callable(config_schema) and not isinstance(config_schema, type):
            fn, config_schema = config_schema, None
            return build(fn)
        return build

    return decorator


resource = _resource_decorator(ResourceDefinition)
resource.__doc__ = """Decorate ``fn(init_context)`` returning (or yielding) a resource."""
io_manager = _resource_decorator(IOManagerDefinition)
io_manager.__doc__ = """Decorate ``fn(init_context)`` returning an `IOManager`."""

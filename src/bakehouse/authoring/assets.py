"""Assets: `@asset`, `@multi_asset`, `AssetSpec` and the `AssetsDefinition` they build.

The decorator reads the function's signature once, at import time: the name gives the key,
parameters give inputs (upstream assets), resources and config, the docstring the description.
Anything wrong is a `DefinitionError` pointing at the function's file:line.
"""

from __future__ import annotations

import inspect
import sys
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, overload

from bakehouse.authoring.automation_condition import AutomationCondition, checked_condition
from bakehouse.authoring.backfill_policy import BackfillPolicy
from bakehouse.authoring.check_spec import AssetCheckKey, AssetCheckSpec
from bakehouse.authoring.dagster_types import DagsterType, dagster_type_of_annotation
from bakehouse.authoring.freshness import FreshnessPolicy, checked_policy
from bakehouse.authoring.retries import RetryPolicy
from bakehouse.authoring.source import (
    caller_frame,
    caller_source,
    function_doc,
    source_of_function,
)
from bakehouse.errors import DagsterInvalidInvocationError, DefinitionError, SourceLocation
from bakehouse.graph.keys import AssetKey, CoercibleToAssetKey, coerce_key

if TYPE_CHECKING:
    from bakehouse.authoring.partition_mappings import PartitionMapping
    from bakehouse.authoring.partitions import PartitionsDefinition

DEFAULT_GROUP = "default"
DEFAULT_IO_MANAGER_KEY = "io_manager"


def _prefix_tuple(prefix: str | Sequence[str] | None) -> tuple[str, ...]:
    if prefix is None:
        return ()
    return (prefix,) if isinstance(prefix, str) else tuple(prefix)


def _kinds(kinds: Iterable[str] | None, compute_kind: str | None) -> frozenset[str]:
    result = set(kinds or ())
    if compute_kind:
        result.add(compute_kind)
    return frozenset(result)


@dataclass(frozen=True)
class AssetIn:
    """Maps a parameter to an upstream asset whose key differs from the parameter's name."""

    key: CoercibleToAssetKey | None = None
    key_prefix: str | Sequence[str] | None = None
    metadata: Mapping[str, Any] | None = None
    partition_mapping: PartitionMapping | None = None


@dataclass(frozen=True)
class AssetOut:
    """One output of a `@multi_asset` declared with ``outs={"name": AssetOut(...)}``."""

    key: CoercibleToAssetKey | None = None
    key_prefix: str | Sequence[str] | None = None
    group_name: str | None = None
    description: str | None = None
    metadata: Mapping[str, Any] | None = None
    io_manager_key: str | None = None
    is_required: bool = True
    code_version: str | None = None
    owners: Sequence[str] | None = None
    tags: Mapping[str, str] | None = None
    kinds: Iterable[str] | None = None
    automation_condition: AutomationCondition | None = None
    freshness_policy: FreshnessPolicy | None = None
    # Checked against the output's value instead of nothing (a multi-asset's outputs have no
    # annotation of their own).
    dagster_type: DagsterType | type | None = None


@dataclass(frozen=True)
class AssetDep:
    """A dependency on an upstream asset that is not passed in as a value."""

    asset: Any
    partition_mapping: PartitionMapping | None = None

    @property
    def key(self) -> AssetKey:
        """The upstream asset's key."""
        keys = _keys_of(self.asset)
        if len(keys) != 1:
            raise DefinitionError(f"AssetDep needs exactly one asset, got {len(keys)}")
        return keys[0]


@dataclass(frozen=True, kw_only=True)
class AssetSpec:
    """An asset's description without a function: an asset produced outside bakehouse, or one
    output of a `@multi_asset`. In `Definitions(assets=[...])` it stands for an external asset.
    """

    key: AssetKey
    deps: tuple[AssetKey, ...] = ()
    description: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    group_name: str = DEFAULT_GROUP
    code_version: str | None = None
    owners: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    kinds: frozenset[str] = frozenset()
    skippable: bool = False
    io_manager_key: str = DEFAULT_IO_MANAGER_KEY
    source: SourceLocation | None = field(default=None, compare=False)
    partitions_def: PartitionsDefinition | None = None
    # Upstream key -> how this asset's partitions map to its partitions (from AssetDep/AssetIn).
    partition_mappings: Mapping[AssetKey, PartitionMapping] = field(default_factory=dict)
    # When the daemon materializes it (evaluated on the host), or None.
    automation_condition: AutomationCondition | None = None
    # How recently it should have materialized (evaluated on the host), or None.
    freshness_policy: FreshnessPolicy | None = None

    def __init__(
        self,
        key: CoercibleToAssetKey,
        *,
        deps: Iterable[Any] | None = None,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        group_name: str | None = None,
        code_version: str | None = None,
        owners: Sequence[str] | None = None,
        tags: Mapping[str, str] | None = None,
        kinds: Iterable[str] | None = None,
        skippable: bool = False,
        io_manager_key: str | None = None,
        source: SourceLocation | None = None,
        partitions_def: PartitionsDefinition | None = None,
        partition_mappings: Mapping[AssetKey, PartitionMapping] | None = None,
        automation_condition: AutomationCondition | None = None,
        freshness_policy: FreshnessPolicy | None = None,
    ) -> None:
        set_ = object.__setattr__
        source = source or caller_source()
        set_(self, "key", coerce_key(key))
        set_(self, "deps", tuple(coerce_deps(deps)))
        set_(self, "description", description)
        set_(self, "metadata", dict(metadata or {}))
        set_(self, "group_name", group_name or DEFAULT_GROUP)
        set_(self, "code_version", code_version)
        set_(self, "owners", tuple(owners or ()))
        set_(self, "tags", dict(tags or {}))
        set_(self, "kinds", frozenset(kinds or ()))
        set_(self, "skippable", skippable)
        set_(self, "io_manager_key", io_manager_key or DEFAULT_IO_MANAGER_KEY)
        set_(self, "source", source)
        # Each check runs only for a value given: most assets give none, and loading 50,000 of
        # them notices four calls and four key strings each.
        if partitions_def is not None:
            partitions_def = _checked_partitions_def(partitions_def, str(self.key), source)
        set_(self, "partitions_def", partitions_def)
        mappings = {**dep_partition_mappings(deps), **(partition_mappings or {})}
        set_(
            self,
            "partition_mappings",
            _checked_mappings(mappings, str(self.key), source) if mappings else {},
        )
        if automation_condition is not None:
            automation_condition = checked_condition(automation_condition, str(self.key), source)
        set_(self, "automation_condition", automation_condition)
        if freshness_policy is not None:
            freshness_policy = checked_policy(freshness_policy, str(self.key), source)
        set_(self, "freshness_policy", freshness_policy)

    def replace_attributes(self, **changes: Any) -> AssetSpec:
        """A copy with the given attributes replaced (`deps` and `key` are coerced)."""
        if "key" in changes:
            changes["key"] = coerce_key(changes["key"])
        if "deps" in changes:
            found = dep_partition_mappings(changes["deps"])
            changes["deps"] = tuple(coerce_deps(changes["deps"]))
            if found:
                changes["partition_mappings"] = {**self.partition_mappings, **found}
        return replace(self, **changes)


def _checked_partitions_def(
    value: Any, where: str, source: SourceLocation | None
) -> PartitionsDefinition | None:
    # The partitions module is loaded once a definition exists: asking sys.modules keeps it off
    # the import path of unpartitioned projects.
    module = sys.modules.get("bakehouse.authoring.partitions")
    if value is None or (module is not None and isinstance(value, module.PartitionsDefinition)):
        return value
    raise DefinitionError(
        f"{where}: partitions_def must be a partitions definition such as "
        f"DailyPartitionsDefinition(start_date=...), got {value!r}",
        source=source,
    )


def _checked_mappings(
    mappings: Mapping[AssetKey, Any], where: str, source: SourceLocation | None
) -> dict[AssetKey, PartitionMapping]:
    module = sys.modules.get("bakehouse.authoring.partition_mappings")
    for dep, mapping in mappings.items():
        if module is None or not isinstance(mapping, module.PartitionMapping):
            raise DefinitionError(
                f"{where}: the partition_mapping for '{dep}' must be a PartitionMapping such as "
                f"TimeWindowPartitionMapping(), got {mapping!r}",
                source=source,
            )
    return dict(mappings)


def dep_partition_mappings(deps: Iterable[Any] | None) -> dict[AssetKey, PartitionMapping]:
    """The partition mappings that `AssetDep` entries of `deps` give, by upstream key."""
    if deps is None or isinstance(deps, (str, AssetKey)):
        return {}
    found: dict[AssetKey, PartitionMapping] = {}
    for dep in deps:
        if isinstance(dep, AssetDep) and dep.partition_mapping is not None:
            found[dep.key] = dep.partition_mapping
    return found


def _keys_of(value: Any) -> list[AssetKey]:
    if isinstance(value, AssetKey):
        return [value]
    if isinstance(value, AssetsDefinition):
        return list(value.keys)
    if isinstance(value, AssetSpec):
        return [value.key]
    if isinstance(value, AssetDep):
        return [value.key]
    try:
        return [coerce_key(value)]
    except (TypeError, ValueError) as exc:
        raise DefinitionError(
            f"cannot use {value!r} as a dependency: give an asset, an AssetSpec, an AssetKey "
            f"or a key string ({exc})"
        ) from None


def coerce_deps(deps: Iterable[Any] | None) -> list[AssetKey]:
    """Keys of `deps`: assets, specs, AssetDep, AssetKey, ``"a/b"`` strings or lists of parts."""
    if deps is None:
        return []
    if isinstance(deps, (str, AssetKey, AssetsDefinition, AssetSpec)):
        deps = [deps]
    keys: list[AssetKey] = []
    for dep in deps:
        for key in _keys_of(dep):
            if key not in keys:
                keys.append(key)
    return keys


@dataclass(frozen=True)
class _Params:
    """What a compute function's signature asks for."""

    context: str | None
    inputs: dict[str, AssetKey]
    resources: dict[str, str]
    config: tuple[str, type] | None
    # Parameter name -> the metadata its AssetIn gives (read by IO managers loading it).
    input_metadata: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # Input parameter name -> its annotation, when it has one (IO managers may load by it,
    # e.g. a polars LazyFrame instead of a DataFrame).
    input_annotations: Mapping[str, Any] = field(default_factory=dict)


def _defining_scope_locals() -> dict[str, Any] | None:
    """The local names of the function scope applying the decorator; None at module level."""
    frame = caller_frame()
    if frame is None or frame.f_locals is frame.f_globals:
        return None
    return dict(frame.f_locals)


def _annotations(fn: Callable[..., Any]) -> dict[str, Any]:
    # Modules with `from __future__ import annotations` hold strings; evaluate them where the
    # function was written, and keep the string when a name there is unknown. "Where" includes
    # the locals of the scope that applies the decorator (still on the stack, as pydantic does
    # for models): a Config or resource class defined in a test function is found, instead of
    # its parameter being taken for an upstream asset.
    raw = dict(getattr(fn, "__annotations__", {}))
    if all(type(a) is type or a is None for a in raw.values()):
        # Plain classes (``int``, ``pd.DataFrame``) are their own hints: skip get_type_hints,
        # a tenth of a millisecond per asset, which only turns None into NoneType here.
        return {name: type(None) if a is None else a for name, a in raw.items()}
    localns = _defining_scope_locals() if any(isinstance(a, str) for a in raw.values()) else None
    try:
        return typing.get_type_hints(fn, localns=localns, include_extras=True)
    except Exception:  # noqa: BLE001 - annotations that fail to evaluate stay raw
        hints: dict[str, Any] = {}
        globalns = getattr(fn, "__globals__", {})
        for name, ann in raw.items():
            if isinstance(ann, str):
                try:
                    hints[name] = eval(ann, globalns, localns)
                except Exception:  # noqa: BLE001 - the user's own annotation; unknown names stay strings
                    hints[name] = ann
            else:
                hints[name] = ann
        return hints


def _is_context(name: str, annotation: Any) -> bool:
    if name == "context":
        return True
    label = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    return isinstance(label, str) and label.rsplit(".", 1)[-1].endswith("ExecutionContext")


def _loaded_subclass(annotation: Any, module: str, class_name: str) -> bool:
    # If the module defining the base class was never imported, no user class can derive from
    # it: checking sys.modules first keeps pydantic off the import path of plain assets.
    mod = sys.modules.get(module)
    base = getattr(mod, class_name, None) if mod else None
    return base is not None and isinstance(annotation, type) and issubclass(annotation, base)


def _is_resource(annotation: Any) -> bool:
    if not isinstance(annotation, type) and typing.get_origin(annotation) is typing.Annotated:
        resources = sys.modules.get("bakehouse.authoring.resources")
        marker = getattr(resources, "_ResourceParamMarker", None)
        return marker is not None and marker in typing.get_args(annotation)[1:]
    return _loaded_subclass(annotation, "bakehouse.authoring.resources", "ConfigurableResource")


def _is_config(annotation: Any) -> bool:
    return _loaded_subclass(annotation, "bakehouse.authoring.config", "Config")


_CO_VARARGS = 0x04
_CO_VARKEYWORDS = 0x08


def _parameter_names(fn: Callable[..., Any], source: SourceLocation | None) -> dict[str, Any]:
    """`fn`'s parameters in order, each with its annotation as its signature gives it (empty
    for a plain function, whose annotations `_annotations` has all); *args and **kwargs are
    refused."""
    code = getattr(fn, "__code__", None)
    if isinstance(fn, types.FunctionType) and code is not None and not hasattr(fn, "__wrapped__"):
        # A plain function: its code object says it all, at a fraction of inspect.signature's
        # cost (which loading thousands of assets notices).
        varargs = code.co_flags & (_CO_VARARGS | _CO_VARKEYWORDS)
        count = code.co_argcount + code.co_kwonlyargcount
        names = dict.fromkeys(code.co_varnames[:count], inspect.Parameter.empty)
    else:
        parameters = inspect.signature(fn).parameters.values()
        varargs = any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters)
        names = {p.name: p.annotation for p in parameters}
    if varargs:
        raise DefinitionError(
            f"{fn.__name__}: *args and **kwargs are not supported in an asset function",
            source=source,
        )
    return names


def _parse_params(
    fn: Callable[..., Any],
    ins: Mapping[str, AssetIn],
    key_prefix: tuple[str, ...],
    source: SourceLocation | None,
    hints: Mapping[str, Any] | None = None,
) -> _Params:
    """What `fn`'s parameters ask for; `hints` are its `_annotations` when the caller has them."""
    hints = _annotations(fn) if hints is None else hints
    params = _parameter_names(fn, source)
    context: str | None = None
    inputs: dict[str, AssetKey] = {}
    resources: dict[str, str] = {}
    config: tuple[str, type] | None = None
    for name, signature_annotation in params.items():
        annotation = hints.get(name, signature_annotation)
        if name not in ins and _is_context(name, annotation):
            context = name
        elif _is_resource(annotation):
            resources[name] = name
        elif _is_config(annotation):
            config = (name, annotation)
        elif name in ins:
            spec = ins[name]
            base = coerce_key(spec.key) if spec.key is not None else AssetKey(name)
            prefix = _prefix_tuple(spec.key_prefix) or (key_prefix if spec.key is None else ())
            inputs[name] = base.with_prefix(prefix) if prefix else base
        else:
            inputs[name] = AssetKey((*key_prefix, name))
    unknown = set(ins) - set(params)
    if unknown:
        raise DefinitionError(
            f"{fn.__name__}: ins names {sorted(unknown)}, which are not parameters of the "
            f"function (parameters: {list(params)})",
            source=source,
        )
    input_metadata = {name: dict(ins[name].metadata or {}) for name in inputs if name in ins}
    annotations = {
        name: hints.get(name, params[name])
        for name in inputs
        if hints.get(name, params[name]) is not inspect.Parameter.empty
    }
    return _Params(context, inputs, resources, config, input_metadata, annotations)


class AssetsDefinition:
    """One or more assets computed by one function (one step of a run).

    Built by `@asset` and `@multi_asset`; users rarely construct it directly.
    """

    def __init__(
        self,
        *,
        specs: Sequence[AssetSpec],
        fn: Callable[..., Any],
        op_name: str,
        params: _Params,
        output_names: Mapping[AssetKey, str],
        required_resource_keys: Iterable[str] = (),
        source: SourceLocation | None,
        can_subset: bool = False,
        op_tags: Mapping[str, str] | None = None,
        is_multi: bool = False,
        check_specs: Sequence[AssetCheckSpec] = (),
        backfill_policy: BackfillPolicy | None = None,
        output_types: Mapping[AssetKey, DagsterType] | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        self.specs = list(specs)
        # How often the step is attempted again after a failed attempt (executors that retry).
        self.retry_policy = retry_policy
        # The type each output's value is checked against (from dagster_type= or the return
        # annotation); keys without one are not checked.
        self.output_types = dict(output_types or {})
        # How backfills split this step's partitions into runs; None: one run per partition.
        self.backfill_policy = backfill_policy
        # Checks this step evaluates itself, yielding AssetCheckResults beside its outputs.
        self.check_specs = list(check_specs)
        self.fn = fn
        self.op_name = op_name
        self.params = params
        self.output_names = dict(output_names)
        self.required_resource_keys = frozenset(required_resource_keys) | frozenset(
            params.resources.values()
        )
        self.source = source
        self.can_subset = can_subset
        self.op_tags = dict(op_tags or {})
        self.is_multi = is_multi
        self.specs_by_key = {s.key: s for s in self.specs}
        self.__doc__ = fn.__doc__
        self.__name__ = op_name

    @property
    def keys(self) -> list[AssetKey]:
        """The keys this definition materializes."""
        return [s.key for s in self.specs]

    @property
    def key(self) -> AssetKey:
        """The key of a single-asset definition."""
        if len(self.specs) != 1:
            raise DefinitionError(
                f"'{self.op_name}' produces {len(self.specs)} assets; use .keys", source=self.source
            )
        return self.specs[0].key

    @property
    def check_keys(self) -> list[AssetCheckKey]:
        """The keys of the checks this step evaluates (its `check_specs`)."""
        return [c.key for c in self.check_specs]

    @property
    def partitions_def(self) -> PartitionsDefinition | None:
        """How this step's assets are partitioned (one definition for all of them), or None."""
        return self.specs[0].partitions_def if self.specs else None

    @property
    def dependency_keys(self) -> set[AssetKey]:
        """Every upstream key of every asset here, excluding the assets themselves."""
        own = set(self.keys)
        return {d for s in self.specs for d in s.deps} - own

    @property
    def input_keys(self) -> dict[str, AssetKey]:
        """Parameter name to the upstream asset it loads."""
        return dict(self.params.inputs)

    @property
    def group_names_by_key(self) -> dict[AssetKey, str]:
        """Each key's group."""
        return {s.key: s.group_name for s in self.specs}

    @property
    def descriptions_by_key(self) -> dict[AssetKey, str | None]:
        """Each key's description."""
        return {s.key: s.description for s in self.specs}

    @property
    def metadata_by_key(self) -> dict[AssetKey, Mapping[str, Any]]:
        """Each key's definition metadata."""
        return {s.key: s.metadata for s in self.specs}

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the function directly, as in a unit test; a context is built if needed.

        Resources passed by keyword get their `EnvVar` fields read now, as a run would.
        """
        context_param = self.params.context
        if context_param and context_param not in kwargs:
            positional = list(inspect.signature(self.fn).parameters)
            if not args or positional[0] != context_param:
                from bakehouse.authoring.context import build_asset_context

                kwargs[context_param] = build_asset_context()
        if context_param:
            given = kwargs[context_param] if context_param in kwargs else args[0]
            # A context built by hand learns the asset's partitions (for partition_time_window).
            bind = getattr(given, "bind_partitions_def", None)
            if callable(bind):
                bind(self.partitions_def)
        for param in self.params.resources:
            resolve = getattr(kwargs.get(param), "with_env_vars_resolved", None)
            if callable(resolve):
                kwargs[param] = resolve(param)
        try:
            inspect.signature(self.fn).bind(*args, **kwargs)
        except TypeError as exc:
            raise DagsterInvalidInvocationError(
                f"asset '{self.op_name}' was called with arguments it does not take: {exc}"
            ) from None
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        keys = ", ".join(k.to_user_string() for k in self.keys)
        return f"<AssetsDefinition {self.op_name}: {keys}>"


AssetFunction = Callable[..., Any]


@overload
def asset(compute_fn: AssetFunction, /) -> AssetsDefinition: ...


@overload
def asset(
    *,
    name: str | None = ...,
    key: CoercibleToAssetKey | None = ...,
    key_prefix: str | Sequence[str] | None = ...,
    ins: Mapping[str, AssetIn] | None = ...,
    deps: Iterable[Any] | None = ...,
    metadata: Mapping[str, Any] | None = ...,
    description: str | None = ...,
    required_resource_keys: Iterable[str] | None = ...,
    io_manager_key: str | None = ...,
    compute_kind: str | None = ...,
    kinds: Iterable[str] | None = ...,
    group_name: str | None = ...,
    code_version: str | None = ...,
    owners: Sequence[str] | None = ...,
    tags: Mapping[str, str] | None = ...,
    op_tags: Mapping[str, str] | None = ...,
    partitions_def: PartitionsDefinition | None = ...,
    check_specs: Sequence[AssetCheckSpec] | None = ...,
    backfill_policy: BackfillPolicy | None = ...,
    dagster_type: DagsterType | type | None = ...,
    automation_condition: AutomationCondition | None = ...,
    freshness_policy: FreshnessPolicy | None = ...,
    retry_policy: RetryPolicy | None = ...,
) -> Callable[[AssetFunction], AssetsDefinition]: ...


def asset(
    compute_fn: AssetFunction | None = None,
    /,
    *,
    name: str | None = None,
    key: CoercibleToAssetKey | None = None,
    key_prefix: str | Sequence[str] | None = None,
    ins: Mapping[str, AssetIn] | None = None,
    deps: Iterable[Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    description: str | None = None,
    required_resource_keys: Iterable[str] | None = None,
    io_manager_key: str | None = None,
    compute_kind: str | None = None,
    kinds: Iterable[str] | None = None,
    group_name: str | None = None,
    code_version: str | None = None,
    owners: Sequence[str] | None = None,
    tags: Mapping[str, str] | None = None,
    op_tags: Mapping[str, str] | None = None,
    partitions_def: PartitionsDefinition | None = None,
    check_specs: Sequence[AssetCheckSpec] | None = None,
    backfill_policy: BackfillPolicy | None = None,
    dagster_type: DagsterType | type | None = None,
    automation_condition: AutomationCondition | None = None,
    freshness_policy: FreshnessPolicy | None = None,
    retry_policy: RetryPolicy | None = None,
) -> AssetsDefinition | Callable[[AssetFunction], AssetsDefinition]:
    """Declare an asset computed by the decorated function.

    The key is the function's name (or `name`, under `key_prefix`; or `key`). Parameters named
    after other assets receive their values; `deps` adds upstream assets without loading them.
    With `partitions_def`, each run materializes one partition (``context.partition_key``), or a
    range of them when `backfill_policy` lets a backfill run several at once
    (``context.partition_key_range``).
    With `check_specs`, the function also returns (in ``MaterializeResult(check_results=...)``)
    or yields an `AssetCheckResult` for each check. The returned value is type-checked against
    the return annotation, or against `dagster_type` when given. With `automation_condition`,
    the daemon materializes it when the condition is true (`AutomationCondition`); with
    `freshness_policy`, the daemon says whether it materialized recently enough.
    """

    def build(fn: AssetFunction) -> AssetsDefinition:
        source = source_of_function(fn)
        if not callable(fn):
            raise DefinitionError(f"@asset decorates functions, not {fn!r}", source=source)
        if key is not None and (name is not None or key_prefix is not None):
            raise DefinitionError(
                f"{fn.__name__}: give either key= or name=/key_prefix=, not both", source=source
            )
        prefix = _prefix_tuple(key_prefix)
        try:
            asset_key = (
                coerce_key(key) if key is not None else AssetKey((*prefix, name or fn.__name__))
            )
        except (TypeError, ValueError) as exc:
            raise DefinitionError(f"{fn.__name__}: {exc}", source=source) from None
        hints = _annotations(fn)
        params = _parse_params(fn, ins or {}, prefix, source, hints)
        upstream = [*params.inputs.values(), *_deps_or_error(deps, fn.__name__, source)]
        mappings = {**dep_partition_mappings(deps), **_in_partition_mappings(ins, params)}
        spec = AssetSpec(
            asset_key,
            deps=upstream,
            description=description or function_doc(fn),
            metadata=metadata,
            group_name=group_name,
            code_version=code_version,
            owners=owners,
            tags=tags,
            kinds=_kinds(kinds, compute_kind),
            io_manager_key=io_manager_key,
            source=source,
            partitions_def=partitions_def,
            partition_mappings=mappings,
            automation_condition=automation_condition,
            freshness_policy=freshness_policy,
        )
        return AssetsDefinition(
            specs=[spec],
            fn=fn,
            # Step names must be unique in a location: derive them from the (unique) key.
            op_name=asset_key.to_python_identifier(),
            params=params,
            output_names={asset_key: "result"},
            required_resource_keys=required_resource_keys or (),
            source=source,
            op_tags=op_tags,
            check_specs=_checked_check_specs(check_specs, [asset_key], fn.__name__, source),
            backfill_policy=_checked_backfill_policy(backfill_policy, fn.__name__, source),
            output_types=_output_types({asset_key: dagster_type or hints.get("return")}),
            retry_policy=retry_policy,
        )

    if compute_fn is not None:
        return build(compute_fn)
    return build


def _output_types(annotations: Mapping[AssetKey, Any]) -> dict[AssetKey, DagsterType]:
    """The checkable type of each output, from its `dagster_type` or return annotation."""
    found = {key: dagster_type_of_annotation(a) for key, a in annotations.items()}
    return {key: t for key, t in found.items() if t is not None}


def _in_partition_mappings(
    ins: Mapping[str, AssetIn] | None, params: _Params
) -> dict[AssetKey, PartitionMapping]:
    return {
        params.inputs[name]: spec.partition_mapping
        for name, spec in (ins or {}).items()
        if spec.partition_mapping is not None and name in params.inputs
    }


def _checked_check_specs(
    check_specs: Sequence[AssetCheckSpec] | None,
    keys: Sequence[AssetKey],
    fn_name: str,
    source: SourceLocation | None,
) -> list[AssetCheckSpec]:
    """`check_specs`, each checking an asset of this step, with no name twice on one asset."""
    seen: set[AssetCheckKey] = set()
    for spec in check_specs or ():
        if not isinstance(spec, AssetCheckSpec):
            raise DefinitionError(
                f"{fn_name}: check_specs holds {spec!r}, which is not an AssetCheckSpec",
                source=source,
            )
        if spec.asset_key not in keys:
            produced = ", ".join(k.to_user_string() for k in keys)
            raise DefinitionError(
                f"{fn_name}: check spec '{spec.name}' checks asset '{spec.asset_key}', which "
                f"this function does not materialize ({produced}); use @asset_check for a check "
                "of another asset",
                source=source,
            )
        if spec.key in seen:
            raise DefinitionError(
                f"{fn_name}: two check specs are named '{spec.name}' on asset '{spec.asset_key}'",
                source=source,
            )
        seen.add(spec.key)
    return list(check_specs or ())


def _checked_backfill_policy(
    policy: BackfillPolicy | None, fn_name: str, source: SourceLocation | None
) -> BackfillPolicy | None:
    """`policy`, refused at import time unless it is a BackfillPolicy."""
    if policy is not None and not isinstance(policy, BackfillPolicy):
        raise DefinitionError(
            f"{fn_name}: backfill_policy must be BackfillPolicy.single_run() or "
            f"BackfillPolicy.multi_run(...), not {policy!r}",
            source=source,
        )
    return policy


def _deps_or_error(
    deps: Iterable[Any] | None, fn_name: str, source: SourceLocation | None
) -> list[AssetKey]:
    try:
        return coerce_deps(deps)
    except DefinitionError as exc:
        raise DefinitionError(f"{fn_name}: {exc.detail}", source=source) from None


def multi_asset(
    *,
    outs: Mapping[str, AssetOut] | None = None,
    specs: Sequence[AssetSpec] | None = None,
    name: str | None = None,
    ins: Mapping[str, AssetIn] | None = None,
    deps: Iterable[Any] | None = None,
    description: str | None = None,
    required_resource_keys: Iterable[str] | None = None,
    group_name: str | None = None,
    compute_kind: str | None = None,
    can_subset: bool = False,
    op_tags: Mapping[str, str] | None = None,
    partitions_def: PartitionsDefinition | None = None,
    check_specs: Sequence[AssetCheckSpec] | None = None,
    backfill_policy: BackfillPolicy | None = None,
    retry_policy: RetryPolicy | None = None,
) -> Callable[[AssetFunction], AssetsDefinition]:
    """Declare several assets computed by one function, with ``outs=`` or ``specs=``.

    With `outs`, return a tuple of values in the order of `outs` (or yield `Output`s); with
    `specs`, yield or return one `MaterializeResult(asset_key=...)` per asset.
    """

    def build(fn: AssetFunction) -> AssetsDefinition:
        source = source_of_function(fn)
        if bool(outs) == bool(specs):
            raise DefinitionError(
                f"{fn.__name__}: @multi_asset needs exactly one of outs= or specs=", source=source
            )
        params = _parse_params(fn, ins or {}, (), source)
        shared_deps = [*params.inputs.values(), *_deps_or_error(deps, fn.__name__, source)]
        mappings = {**dep_partition_mappings(deps), **_in_partition_mappings(ins, params)}
        kinds = _kinds(None, compute_kind)
        built: list[AssetSpec] = []
        output_names: dict[AssetKey, str] = {}
        out_types: dict[AssetKey, Any] = {}
        if outs:
            for out_name, out in outs.items():
                base = coerce_key(out.key) if out.key is not None else AssetKey(out_name)
                out_prefix = _prefix_tuple(out.key_prefix)
                out_key = base.with_prefix(out_prefix) if out_prefix else base
                built.append(
                    AssetSpec(
                        out_key,
                        deps=shared_deps,
                        description=out.description or description,
                        metadata=out.metadata,
                        group_name=out.group_name or group_name,
                        code_version=out.code_version,
                        owners=out.owners,
                        tags=out.tags,
                        kinds=_kinds(out.kinds, None) | kinds,
                        skippable=not out.is_required,
                        io_manager_key=out.io_manager_key,
                        source=source,
                        partitions_def=partitions_def,
                        partition_mappings=mappings,
                        automation_condition=out.automation_condition,
                        freshness_policy=out.freshness_policy,
                    )
                )
                output_names[out_key] = out_name
                out_types[out_key] = out.dagster_type
        else:
            for spec in specs or ():
                merged = spec.replace_attributes(
                    deps=[*shared_deps, *spec.deps],
                    group_name=spec.group_name
                    if spec.group_name != DEFAULT_GROUP
                    else (group_name or DEFAULT_GROUP),
                    kinds=spec.kinds | kinds,
                    source=source,
                    partitions_def=spec.partitions_def or partitions_def,
                    partition_mappings={**mappings, **spec.partition_mappings},
                )
                built.append(merged)
                output_names[merged.key] = merged.key.to_python_identifier()
        seen: set[AssetKey] = set()
        for spec in built:
            if spec.key in seen:
                raise DefinitionError(
                    f"{fn.__name__}: asset key '{spec.key}' appears twice in one multi_asset",
                    source=source,
                )
            seen.add(spec.key)
        if len({s.partitions_def for s in built}) > 1:
            raise DefinitionError(
                f"{fn.__name__}: every asset of a multi_asset runs in one step, so they need one "
                "partitions_def; give it once with @multi_asset(partitions_def=...)",
                source=source,
            )
        return AssetsDefinition(
            specs=built,
            fn=fn,
            op_name=name or fn.__name__,
            params=params,
            output_names=output_names,
            required_resource_keys=required_resource_keys or (),
            source=source,
            can_subset=can_subset,
            op_tags=op_tags,
            is_multi=True,
            check_specs=_checked_check_specs(
                check_specs, [s.key for s in built], fn.__name__, source
            ),
            backfill_policy=_checked_backfill_policy(backfill_policy, fn.__name__, source),
            output_types=_output_types(out_types),
            retry_policy=retry_policy,
        )

    return build


AssetsLike = AssetsDefinition | AssetSpec

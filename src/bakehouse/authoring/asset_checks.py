"""Asset checks: `@asset_check` and the `AssetChecksDefinition` it builds.

A check is a function that looks at an asset and returns an `AssetCheckResult`. It runs as its
own step after the asset's step; a parameter that is not the context, a resource or config
receives the asset's value, loaded through the asset's IO manager (whatever its name, as in
Dagster). Anything wrong is a `DefinitionError` pointing at the function's file:line.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from bakehouse.authoring.assets import AssetIn, AssetSpec, _Params, _parse_params
from bakehouse.authoring.check_spec import AssetCheckKey, AssetCheckSpec
from bakehouse.authoring.context import AssetExecutionContext
from bakehouse.authoring.source import source_of_function
from bakehouse.errors import DefinitionError, SourceLocation
from bakehouse.graph.keys import AssetKey


class AssetCheckExecutionContext(AssetExecutionContext):
    """What a check function receives as ``context``: the asset context of the checked asset,
    plus the checks this step evaluates."""

    def __init__(self, *, check_specs: Iterable[AssetCheckSpec], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check_specs = list(check_specs)
        self.selected_asset_check_keys = {s.key for s in self.check_specs}

    @property
    def op_execution_context(self) -> AssetCheckExecutionContext:
        """This context (Dagster code reaches the op context through here)."""
        return self


class AssetChecksDefinition:
    """Checks computed by one function, run as their own step: one check (`@asset_check`) or
    several (`@multi_asset_check`)."""

    def __init__(
        self,
        *,
        specs: Sequence[AssetCheckSpec],
        fn: Callable[..., Any],
        params: _Params,
        required_resource_keys: Iterable[str] = (),
        source: SourceLocation | None,
        op_name: str | None = None,
        can_subset: bool = False,
    ) -> None:
        self._specs = list(specs)
        self.fn = fn
        self.params = params
        self.required_resource_keys = frozenset(required_resource_keys) | frozenset(
            params.resources.values()
        )
        self.source = source
        self.can_subset = can_subset
        self.op_name = op_name or self._specs[0].key.to_python_identifier()
        self.__doc__ = fn.__doc__
        self.__name__ = op_name or self._specs[0].name

    @property
    def spec(self) -> AssetCheckSpec:
        """The check of a definition that evaluates one (`@asset_check`)."""
        if len(self._specs) != 1:
            raise AttributeError(f"'{self.op_name}' evaluates {len(self._specs)} checks")
        return self._specs[0]

    @property
    def check_specs(self) -> list[AssetCheckSpec]:
        """The checks this definition evaluates."""
        return list(self._specs)

    @property
    def check_key(self) -> AssetCheckKey:
        """The key of the check of a definition that evaluates one."""
        return self.spec.key

    @property
    def check_keys(self) -> list[AssetCheckKey]:
        """The keys of the checks this definition evaluates."""
        return [s.key for s in self._specs]

    @property
    def asset_key(self) -> AssetKey:
        """The key of the checked asset (the first one, for a multi-asset check)."""
        return self._specs[0].asset_key

    @property
    def checked_asset_keys(self) -> list[AssetKey]:
        """The assets these checks look at, each once, in the order of the specs."""
        return list(dict.fromkeys(s.asset_key for s in self._specs))

    @property
    def partitions_def(self) -> None:
        """Checks run once per run, unpartitioned."""
        return None

    @property
    def specs(self) -> list[AssetSpec]:
        """No assets: a check materializes nothing (so a check step stores no output)."""
        return []

    @property
    def keys(self) -> list[AssetKey]:
        """No asset keys: a check materializes nothing."""
        return []

    @property
    def dependency_keys(self) -> set[AssetKey]:
        """The checked assets, the assets loaded and the `additional_deps`: what it runs after."""
        deps = {d for s in self._specs for d in (s.asset_key, *s.additional_deps)}
        return deps | set(self.params.inputs.values())

    def get_spec_for_check_key(self, key: AssetCheckKey) -> AssetCheckSpec:
        """The spec of check `key`."""
        for spec in self._specs:
            if spec.key == key:
                return spec
        raise KeyError(f"'{self.op_name}' does not evaluate {key}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the function directly, as in a unit test; a context is built if needed."""
        context_param = self.params.context
        if context_param and context_param not in kwargs:
            positional = list(inspect.signature(self.fn).parameters)
            if not args or positional[0] != context_param:
                kwargs[context_param] = AssetCheckExecutionContext(
                    check_specs=self.check_specs,
                    run_id="direct-invocation",
                    asset_keys=self.checked_asset_keys,
                    step_key=self.op_name,
                )
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        listed = ", ".join(str(k) for k in self.check_keys)
        return f"<AssetChecksDefinition {listed}>"


def asset_check(
    *,
    asset: Any,
    name: str | None = None,
    description: str | None = None,
    blocking: bool = False,
    additional_ins: Mapping[str, AssetIn] | None = None,
    additional_deps: Iterable[Any] | None = None,
    required_resource_keys: Iterable[str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    compute_kind: str | None = None,
) -> Callable[[Callable[..., Any]], AssetChecksDefinition]:
    """Declare a check of `asset` computed by the decorated function.

    The check is named after the function (or `name`) and runs after each materialization of
    the asset that its run includes. A parameter that is not ``context``, a resource or config
    receives the asset's value (with several, the one named after the asset; the others load
    the assets they are named after); `additional_ins` loads other assets under any name.
    With `blocking`, a failed check of ERROR severity keeps the assets downstream of `asset`
    from running.
    """
    del compute_kind  # accepted for Dagster code; a check has no kind to show

    def build(fn: Callable[..., Any]) -> AssetChecksDefinition:
        source = source_of_function(fn)
        if not callable(fn):
            raise DefinitionError(f"@asset_check decorates functions, not {fn!r}", source=source)
        check_name = name or fn.__name__
        try:
            spec = AssetCheckSpec(
                check_name,
                asset=asset,
                description=description or inspect.getdoc(fn),
                blocking=blocking,
                additional_deps=additional_deps,
                metadata=metadata,
            )
        except DefinitionError as exc:
            raise DefinitionError(f"{fn.__name__}: {exc.detail}", source=source) from None
        params = _check_params(fn, spec, additional_ins or {}, source)
        return AssetChecksDefinition(
            specs=[_with_loaded_deps(spec, params)],
            fn=fn,
            params=params,
            required_resource_keys=required_resource_keys or (),
            source=source,
        )

    return build


def _check_params(
    fn: Callable[..., Any],
    spec: AssetCheckSpec,
    additional_ins: Mapping[str, AssetIn],
    source: SourceLocation | None,
) -> _Params:
    """The function's parameters, with the checked asset's parameter pointed at it.

    As in Dagster, the one parameter outside `additional_ins` receives the checked asset
    whatever its name. With several, the one named after the checked asset receives it and the
    others load the assets they are named after, as `@asset` parameters do.
    """
    params = _parse_params(fn, additional_ins, (), source)
    if any(params.inputs[p] == spec.asset_key for p in additional_ins if p in params.inputs):
        raise DefinitionError(
            f"{fn.__name__}: additional_ins names the checked asset '{spec.asset_key}'; a "
            "parameter outside additional_ins receives it",
            source=source,
        )
    inputs = dict(params.inputs)
    own = [p for p in inputs if p not in additional_ins]
    names_of_checked = {spec.asset_key.path[-1], spec.asset_key.to_python_identifier()}
    primary = own if len(own) == 1 else [p for p in own if p in names_of_checked]
    if len(own) > 1 and not primary:
        raise DefinitionError(
            f"{fn.__name__}: check '{spec.name}' has several parameters that would be assets "
            f"({own}) and none is named after the checked asset '{spec.asset_key}'; name one "
            f"'{spec.asset_key.path[-1]}' to receive it, or give the others in "
            "additional_ins={name: AssetIn(...)}",
            source=source,
        )
    for param in primary:
        inputs[param] = spec.asset_key
    return _Params(
        params.context,
        inputs,
        params.resources,
        params.config,
        params.input_metadata,
        params.input_annotations,
    )


def _with_loaded_deps(spec: AssetCheckSpec, params: _Params) -> AssetCheckSpec:
    """`spec` with the other assets its function loads among its `additional_deps`, as Dagster
    records them (so lineage shows every asset the check reads)."""
    loaded = [k for k in params.inputs.values() if k != spec.asset_key]
    extra = [k for k in dict.fromkeys(loaded) if k not in spec.additional_deps]
    if not extra:
        return spec
    return AssetCheckSpec(
        spec.name,
        asset=spec.asset_key,
        description=spec.description,
        blocking=spec.blocking,
        additional_deps=[*spec.additional_deps, *extra],
        metadata=spec.metadata,
    )


def multi_asset_check(
    *,
    specs: Sequence[AssetCheckSpec],
    name: str | None = None,
    description: str | None = None,
    can_subset: bool = False,
    ins: Mapping[str, AssetIn | Any] | None = None,
    required_resource_keys: Iterable[str] | None = None,
    compute_kind: str | None = None,
    op_tags: Mapping[str, str] | None = None,
) -> Callable[[Callable[..., Any]], AssetChecksDefinition]:
    """Declare several checks (`specs`, of one asset or several) computed by one function.

    The function runs as one step, after every checked asset that its run materializes, and
    returns or yields one `AssetCheckResult` per check, each naming its `asset_key` and
    `check_name` when that is ambiguous. A parameter named after an asset receives its value;
    `ins` (``{"param": AssetIn(key=...)}`` or a key) loads assets under other names. With
    `can_subset`, a run may select some of the checks:
    the function reads ``context.selected_asset_check_keys`` and answers just those.
    """
    # Accepted for Dagster code; the description of the op is not shown (each spec has its own).
    del compute_kind, op_tags, description

    def build(fn: Callable[..., Any]) -> AssetChecksDefinition:
        source = source_of_function(fn)
        if not callable(fn):
            raise DefinitionError(
                f"@multi_asset_check decorates functions, not {fn!r}", source=source
            )
        given = list(specs)
        wrong = [s for s in given if not isinstance(s, AssetCheckSpec)]
        if not given or wrong:
            raise DefinitionError(
                f"{fn.__name__}: @multi_asset_check needs specs=[AssetCheckSpec(...), ...]"
                + (f", got {wrong[0]!r}" if wrong else ""),
                source=source,
            )
        seen: set[AssetCheckKey] = set()
        for spec in given:
            if spec.key in seen:
                raise DefinitionError(
                    f"{fn.__name__}: check '{spec.key}' is in specs twice", source=source
                )
            seen.add(spec.key)
        op_name = name or fn.__name__
        if not op_name.isidentifier():
            raise DefinitionError(
                f"{fn.__name__}: name {op_name!r} is not an identifier", source=source
            )
        asset_ins = {
            param: value if isinstance(value, AssetIn) else AssetIn(key=value)
            for param, value in (ins or {}).items()
        }
        # Parameters outside `ins` load the assets they are named after, as in `@asset`.
        params = _parse_params(fn, asset_ins, (), source)
        return AssetChecksDefinition(
            specs=given,
            fn=fn,
            params=params,
            required_resource_keys=required_resource_keys or (),
            source=source,
            op_name=op_name,
            can_subset=can_subset,
        )

    return build

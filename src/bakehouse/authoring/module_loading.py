"""Dagster's pre-``defs`` loaders: assets and checks found at module level in given modules.

``load_assets_from_modules([raw, marts], group_name="x", key_prefix="p")`` returns copies of
the assets defined in those modules, regrouped and with their keys (and the keys of upstream
assets among them) under the prefix, as the course's early lessons list them in `Definitions`.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from types import ModuleType
from typing import Any

from bakehouse.authoring.asset_checks import AssetChecksDefinition
from bakehouse.authoring.assets import DEFAULT_GROUP, AssetsDefinition, AssetSpec
from bakehouse.authoring.check_spec import AssetCheckSpec
from bakehouse.authoring.loading import iter_package_modules
from bakehouse.errors import DefinitionError
from bakehouse.graph.keys import AssetKey

KeyPrefix = str | Sequence[str] | None
Rekey = Callable[[AssetKey], AssetKey]


def file_relative_path(dunderfile: str, relative_path: str) -> str:
    """`relative_path` joined to the folder of the file `dunderfile` (pass ``__file__``)."""
    return os.path.join(os.path.dirname(dunderfile), relative_path)


def load_assets_from_modules(
    modules: Iterable[ModuleType],
    group_name: str | None = None,
    key_prefix: KeyPrefix = None,
    *,
    source_key_prefix: KeyPrefix = None,
    include_specs: bool = False,
) -> list[AssetsDefinition | AssetSpec]:
    """The assets defined at module level in `modules`, each once.

    `group_name` puts them all in one group (an asset that names another group is an error);
    `key_prefix` prefixes their keys and the keys of upstream assets loaded with them;
    `source_key_prefix` prefixes the keys of upstream assets not loaded here. `AssetSpec`s are
    included only with `include_specs`.
    """
    kinds: tuple[type, ...] = (
        (AssetsDefinition, AssetSpec) if include_specs else (AssetsDefinition,)
    )
    found = _module_level(modules, kinds)
    own = {key for value in found for key in _keys(value)}
    rekey = _rekeying(own, key_prefix, source_key_prefix)
    return [_rekeyed_asset(value, rekey, group_name) for value in found]


def load_assets_from_package_module(
    package_module: ModuleType,
    group_name: str | None = None,
    key_prefix: KeyPrefix = None,
    *,
    source_key_prefix: KeyPrefix = None,
    include_specs: bool = False,
) -> list[AssetsDefinition | AssetSpec]:
    """`load_assets_from_modules` over `package_module` and every module below it."""
    return load_assets_from_modules(
        iter_package_modules(package_module),
        group_name,
        key_prefix,
        source_key_prefix=source_key_prefix,
        include_specs=include_specs,
    )


def load_assets_from_current_module(
    group_name: str | None = None,
    key_prefix: KeyPrefix = None,
    *,
    source_key_prefix: KeyPrefix = None,
    include_specs: bool = False,
) -> list[AssetsDefinition | AssetSpec]:
    """`load_assets_from_modules` over the module that calls it."""
    return load_assets_from_modules(
        [_calling_module()],
        group_name,
        key_prefix,
        source_key_prefix=source_key_prefix,
        include_specs=include_specs,
    )


def load_asset_checks_from_modules(
    modules: Iterable[ModuleType], asset_key_prefix: KeyPrefix = None
) -> list[AssetChecksDefinition]:
    """The asset checks defined at module level in `modules`; `asset_key_prefix` prefixes the
    keys of the assets they check and load (to match assets loaded with that `key_prefix`)."""
    found = _module_level(modules, (AssetChecksDefinition,))
    rekey = _rekeying(set(), None, asset_key_prefix)
    return [_rekeyed_checks(check, rekey) for check in found]


def load_asset_checks_from_package_module(
    package_module: ModuleType, asset_key_prefix: KeyPrefix = None
) -> list[AssetChecksDefinition]:
    """`load_asset_checks_from_modules` over `package_module` and every module below it."""
    return load_asset_checks_from_modules(iter_package_modules(package_module), asset_key_prefix)


def load_asset_checks_from_current_module(
    asset_key_prefix: KeyPrefix = None,
) -> list[AssetChecksDefinition]:
    """`load_asset_checks_from_modules` over the module that calls it."""
    return load_asset_checks_from_modules([_calling_module()], asset_key_prefix)


def _calling_module() -> ModuleType:
    frame = inspect.currentframe()
    caller = frame.f_back.f_back if frame and frame.f_back else None
    module = inspect.getmodule(caller) if caller else None
    if module is None:
        raise DefinitionError("could not tell which module called load_*_from_current_module")
    return module


def _module_level(modules: Iterable[ModuleType], kinds: tuple[type, ...]) -> list[Any]:
    found: dict[int, Any] = {}
    for module in modules:
        if not isinstance(module, ModuleType):
            raise DefinitionError(f"expected modules to load from, got {module!r}")
        for value in vars(module).values():
            if isinstance(value, kinds):
                found.setdefault(id(value), value)
    return list(found.values())


def _keys(value: AssetsDefinition | AssetSpec) -> list[AssetKey]:
    return [value.key] if isinstance(value, AssetSpec) else list(value.keys)


def _prefix(prefix: KeyPrefix) -> tuple[str, ...]:
    if prefix is None:
        return ()
    return (prefix,) if isinstance(prefix, str) else tuple(prefix)


def _rekeying(own: set[AssetKey], key_prefix: KeyPrefix, source_prefix: KeyPrefix) -> Rekey:
    own_prefix, other_prefix = _prefix(key_prefix), _prefix(source_prefix)

    def rekey(key: AssetKey) -> AssetKey:
        prefix = own_prefix if key in own else other_prefix
        return key.with_prefix(prefix) if prefix else key

    return rekey


def _regrouped_spec(spec: AssetSpec, rekey: Rekey, group_name: str | None) -> AssetSpec:
    if group_name and spec.group_name not in (DEFAULT_GROUP, group_name):
        raise DefinitionError(
            f"asset '{spec.key.to_user_string()}' is already in group '{spec.group_name}'; "
            f"load_assets_from_modules(group_name='{group_name}') cannot move it",
            source=spec.source,
        )
    return spec.replace_attributes(
        key=rekey(spec.key),
        deps=[rekey(d) for d in spec.deps],
        group_name=group_name or spec.group_name,
        partition_mappings={rekey(k): m for k, m in spec.partition_mappings.items()},
    )


def _rekeyed_check_spec(spec: AssetCheckSpec, rekey: Rekey) -> AssetCheckSpec:
    return AssetCheckSpec(
        spec.name,
        asset=rekey(spec.asset_key),
        description=spec.description,
        blocking=spec.blocking,
        additional_deps=[rekey(d) for d in spec.additional_deps],
        metadata=spec.metadata,
    )


def _rekeyed_asset(
    value: AssetsDefinition | AssetSpec, rekey: Rekey, group_name: str | None
) -> AssetsDefinition | AssetSpec:
    if isinstance(value, AssetSpec):
        return _regrouped_spec(value, rekey, group_name)
    if all(rekey(k) == k for k in value.dependency_keys | set(value.keys)) and not group_name:
        return value
    specs = [_regrouped_spec(s, rekey, group_name) for s in value.specs]
    return AssetsDefinition(
        specs=specs,
        fn=value.fn,
        # A single asset's step is named after its key, which must stay unique in a location.
        op_name=value.op_name if value.is_multi else specs[0].key.to_python_identifier(),
        params=replace(value.params, inputs={p: rekey(k) for p, k in value.params.inputs.items()}),
        output_names={rekey(k): n for k, n in value.output_names.items()},
        required_resource_keys=value.required_resource_keys,
        source=value.source,
        can_subset=value.can_subset,
        op_tags=value.op_tags,
        is_multi=value.is_multi,
        check_specs=[_rekeyed_check_spec(c, rekey) for c in value.check_specs],
        backfill_policy=value.backfill_policy,
        retry_policy=value.retry_policy,
        output_types={rekey(k): t for k, t in value.output_types.items()},
    )


def _rekeyed_checks(check: AssetChecksDefinition, rekey: Rekey) -> AssetChecksDefinition:
    if all(rekey(k) == k for k in check.dependency_keys):
        return check
    specs = [_rekeyed_check_spec(s, rekey) for s in check.check_specs]
    default_name = check.check_keys[0].to_python_identifier()
    return AssetChecksDefinition(
        specs=specs,
        fn=check.fn,
        params=replace(check.params, inputs={p: rekey(k) for p, k in check.params.inputs.items()}),
        required_resource_keys=check.required_resource_keys,
        source=check.source,
        # A check named by its key is renamed with it; a multi-asset check keeps its name.
        op_name=None if check.op_name == default_name else check.op_name,
        can_subset=check.can_subset,
    )

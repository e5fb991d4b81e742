"""``@dlt_assets``: one subsettable multi-asset with an asset per resource of a dlt source."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bakehouse.authoring.assets import AssetsDefinition, AssetSpec, multi_asset
from bakehouse.authoring.backfill_policy import BackfillPolicy
from bakehouse.authoring.context_info import with_info_on_context
from bakehouse.authoring.partitions import PartitionsDefinition
from bakehouse.errors import DefinitionError
from bakehouse.graph.keys import AssetKey
from bakehouse_dlt.translator import DagsterDltTranslator, DltResourceTranslatorData

INFO_ATTRIBUTE = "_bakehouse_dlt_info"


@dataclass(frozen=True)
class DltAssetsInfo:
    """What a run of the assets needs from their definition: the source, the pipeline, the
    translator, and which resource each asset key stands for."""

    source: Any
    pipeline: Any
    translator: DagsterDltTranslator
    resource_names: Mapping[AssetKey, str]


def asset_specs(
    source: Any, pipeline: Any, translator: DagsterDltTranslator
) -> dict[str, AssetSpec]:
    """The spec of each selected resource of `source`, by resource name."""
    destination = getattr(pipeline, "destination", None)
    return {
        name: translator.get_asset_spec(
            DltResourceTranslatorData(resource=resource, destination=destination, pipeline=pipeline)
        )
        for name, resource in source.selected_resources.items()
    }


def dlt_assets(
    *,
    dlt_source: Any,
    dlt_pipeline: Any,
    name: str | None = None,
    group_name: str | None = None,
    dagster_dlt_translator: DagsterDltTranslator | None = None,
    partitions_def: PartitionsDefinition | None = None,
    backfill_policy: BackfillPolicy | None = None,
    op_tags: Mapping[str, Any] | None = None,
    pool: str | None = None,
) -> Callable[[Callable[..., Any]], AssetsDefinition]:
    """Assets for the selected resources of `dlt_source`, loaded by `dlt_pipeline`.

    The function runs the pipeline for the assets a run selected::

        @dlt_assets(dlt_source=github_source(), dlt_pipeline=dlt.pipeline(...))
        def github_assets(context: dg.AssetExecutionContext, dlt: DagsterDltResource):
            yield from dlt.run(context=context)
    """
    translator = dagster_dlt_translator or DagsterDltTranslator()
    if not isinstance(translator, DagsterDltTranslator):
        raise DefinitionError(
            f"dlt_assets: dagster_dlt_translator must be a DagsterDltTranslator, got {translator!r}"
        )

    def build(fn: Callable[..., Any]) -> AssetsDefinition:
        specs = asset_specs(dlt_source, dlt_pipeline, translator)
        if not specs:
            raise DefinitionError(f"{fn.__name__}: the dlt source selects no resource")
        if group_name is not None:
            specs = {n: s.replace_attributes(group_name=group_name) for n, s in specs.items()}
        keys = [s.key for s in specs.values()]
        clashing = sorted({k.to_user_string() for k in keys if keys.count(k) > 1})
        if clashing:
            raise DefinitionError(
                f"{fn.__name__}: several dlt resources translate to the asset keys {clashing}"
            )
        info = DltAssetsInfo(
            dlt_source, dlt_pipeline, translator, {s.key: n for n, s in specs.items()}
        )
        compute, bind_context = with_info_on_context(fn, INFO_ATTRIBUTE, info)

        tags = {k: str(v) for k, v in (op_tags or {}).items()}
        if pool:
            tags["dagster/pool"] = pool
        assets_def = multi_asset(
            specs=list(specs.values()),
            name=name or fn.__name__,
            can_subset=True,
            partitions_def=partitions_def,
            backfill_policy=backfill_policy,
            op_tags=tags,
        )(compute)
        bind_context(assets_def.params.context)
        setattr(assets_def, INFO_ATTRIBUTE, info)
        return assets_def

    return build


def dlt_info_of(value: Any) -> DltAssetsInfo | None:
    """The dlt definition a context or AssetsDefinition belongs to, if any."""
    info = getattr(value, INFO_ATTRIBUTE, None)
    return info if isinstance(info, DltAssetsInfo) else None

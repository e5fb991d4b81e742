"""``@dbt_assets``: one subsettable multi-asset for the models, seeds and snapshots of a dbt
manifest, with the project's tests as its asset checks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from bakehouse.authoring.assets import AssetsDefinition, multi_asset
from bakehouse.authoring.backfill_policy import BackfillPolicy
from bakehouse.authoring.context_info import with_info_on_context
from bakehouse.authoring.partitions import PartitionsDefinition
from bakehouse.errors import DefinitionError
from bakehouse_dbt.manifest import (
    DEFAULT_SELECT,
    DbtManifestParam,
    project_dir_of,
    read_manifest,
)
from bakehouse_dbt.project import DbtProject
from bakehouse_dbt.specs import DbtAssetsInfo, build_specs
from bakehouse_dbt.translator import DagsterDbtTranslator, validate_translator

# The attribute of a run's context (and of the AssetsDefinition) that holds its DbtAssetsInfo.
INFO_ATTRIBUTE = "_bakehouse_dbt_info"


def dbt_assets(
    *,
    manifest: DbtManifestParam,
    select: str = DEFAULT_SELECT,
    exclude: str | None = None,
    name: str | None = None,
    io_manager_key: str | None = None,
    partitions_def: PartitionsDefinition | None = None,
    dagster_dbt_translator: DagsterDbtTranslator | None = None,
    backfill_policy: BackfillPolicy | None = None,
    op_tags: Mapping[str, Any] | None = None,
    required_resource_keys: Iterable[str] | None = None,
    project: DbtProject | None = None,
    retry_policy: Any = None,
    pool: str | None = None,
) -> Callable[[Callable[..., Any]], AssetsDefinition]:
    """Assets for the dbt nodes `select` and `exclude` choose (dbt's selection syntax).

    The function runs dbt for the assets a run selected::

        @dbt_assets(manifest=my_project.manifest_path)
        def my_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource):
            yield from dbt.cli(["build"], context=context).stream()

    Models, seeds and snapshots become assets (keys, groups, descriptions and metadata from
    `dagster_dbt_translator`), their dependencies on sources become deps on the sources'
    asset keys, and tests of one of them become its asset checks. Time-window partitioned
    assets default to one run per backfill (``BackfillPolicy.single_run()``), as in Dagster.
    """
    translator = validate_translator(dagster_dbt_translator)

    def build(fn: Callable[..., Any]) -> AssetsDefinition:
        if (
            project is not None
            and not isinstance(manifest, Mapping)
            and Path(manifest) == project.manifest_path
        ):
            project.prepare_if_dev()
        loaded = read_manifest(manifest)
        specs, checks, info = build_specs(
            loaded,
            translator,
            select=select,
            exclude=exclude,
            project=project,
            io_manager_key=io_manager_key,
            partitions_def=partitions_def,
            project_dir=project.project_dir if project is not None else project_dir_of(manifest),
        )
        if not specs:
            raise DefinitionError(
                f"{fn.__name__}: @dbt_assets(select={select!r}, exclude={exclude!r}) chooses "
                "no model, seed or snapshot of the manifest"
            )
        # The run's context learns its definition, so DbtCliResource.cli(context=...)
        # knows the manifest, the translator and which nodes the run selected.
        compute, bind_context = with_info_on_context(fn, INFO_ATTRIBUTE, info)

        policy = backfill_policy
        if policy is None and partitions_def is not None and _is_time_window(partitions_def):
            policy = BackfillPolicy.single_run()
        tags = {k: str(v) for k, v in (op_tags or {}).items()}
        if pool:
            tags["dagster/pool"] = pool
        assets_def = multi_asset(
            specs=specs,
            name=name or fn.__name__,
            can_subset=True,
            check_specs=checks,
            partitions_def=partitions_def,
            backfill_policy=policy,
            op_tags=tags,
            required_resource_keys=required_resource_keys,
        )(compute)
        bind_context(assets_def.params.context)
        setattr(assets_def, INFO_ATTRIBUTE, info)
        return assets_def

    return build


def _is_time_window(partitions_def: PartitionsDefinition) -> bool:
    from bakehouse.authoring.time_window_partitions import TimeWindowPartitionsDefinition

    return isinstance(partitions_def, TimeWindowPartitionsDefinition)


def dbt_info_of(value: Any) -> DbtAssetsInfo | None:
    """The dbt definition a context or AssetsDefinition belongs to, if any."""
    info = getattr(value, INFO_ATTRIBUTE, None)
    return info if isinstance(info, DbtAssetsInfo) else None

"""The asset specs and check specs a manifest yields: one asset per selected model, seed and
snapshot, one check per selected test of one of them; `DbtAssetsInfo` keeps the mapping both
ways for the run that later reads dbt's events."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bakehouse.authoring.assets import AssetSpec
from bakehouse.authoring.check_spec import AssetCheckKey, AssetCheckSpec
from bakehouse.authoring.partitions import PartitionsDefinition
from bakehouse.errors import DefinitionError
from bakehouse.graph.keys import AssetKey
from bakehouse_dbt.manifest import (
    ASSET_RESOURCE_TYPES,
    Manifest,
    asset_nodes,
    node,
    select_unique_ids,
    upstream_ids,
)
from bakehouse_dbt.project import DbtProject
from bakehouse_dbt.translator import DagsterDbtTranslator

_NOT_IDENTIFIER = re.compile(r"\W")


@dataclass
class DbtAssetsInfo:
    """What a run of `@dbt_assets` needs to know of its definition."""

    manifest: Manifest
    translator: DagsterDbtTranslator
    select: str
    exclude: str | None
    project: DbtProject | None
    key_by_unique_id: dict[str, AssetKey] = field(default_factory=dict)
    unique_id_by_key: dict[AssetKey, str] = field(default_factory=dict)
    check_by_unique_id: dict[str, AssetCheckKey] = field(default_factory=dict)
    unique_id_by_check: dict[AssetCheckKey, str] = field(default_factory=dict)
    # Source (name, table) -> the key dbt's source maps to, for get_asset_key_for_source.
    source_keys: dict[tuple[str, str], AssetKey] = field(default_factory=dict)


def _is_ephemeral(props: Mapping[str, Any]) -> bool:
    return (props.get("config") or {}).get("materialized") == "ephemeral"


def _is_asset_node(props: Mapping[str, Any]) -> bool:
    return props["resource_type"] in ASSET_RESOURCE_TYPES and not _is_ephemeral(props)


def upstream_keys(
    manifest: Manifest, translator: DagsterDbtTranslator, unique_id: str
) -> list[AssetKey]:
    """The asset keys a node reads: nodes and sources, looking through ephemeral models
    (which dbt inlines, so they are no assets)."""
    keys: list[AssetKey] = []
    seen: set[str] = set()
    pending = upstream_ids(node(manifest, unique_id))
    while pending:
        parent = pending.pop(0)
        if parent in seen:
            continue
        seen.add(parent)
        try:
            props = node(manifest, parent)
        except KeyError:
            continue  # a node of a disabled package
        if props["resource_type"] == "source" or _is_asset_node(props):
            keys.append(translator.get_asset_key(props))
        elif _is_ephemeral(props):
            pending.extend(upstream_ids(props))
    return list(dict.fromkeys(keys))


def build_specs(
    manifest: Manifest,
    translator: DagsterDbtTranslator,
    *,
    select: str,
    exclude: str | None,
    project: DbtProject | None,
    io_manager_key: str | None,
    partitions_def: PartitionsDefinition | None,
    project_dir: Path | None = None,
) -> tuple[list[AssetSpec], list[AssetCheckSpec], DbtAssetsInfo]:
    """The asset specs, check specs and mapping of the nodes `select`/`exclude` choose
    (``path:`` selections relative to `project_dir`)."""
    info = DbtAssetsInfo(manifest, translator, select, exclude, project)
    selected = select_unique_ids(manifest, select, exclude, project_dir)
    adapter = (manifest.get("metadata") or {}).get("adapter_type")
    specs: list[AssetSpec] = []
    for unique_id in asset_nodes(manifest, selected):
        props = node(manifest, unique_id)
        if _is_ephemeral(props):
            continue
        key = translator.get_asset_key(props)
        info.key_by_unique_id[unique_id] = key
        info.unique_id_by_key[key] = unique_id
        specs.append(
            AssetSpec(
                key,
                deps=upstream_keys(manifest, translator, unique_id),
                description=translator.get_description(props),
                metadata=translator.get_metadata(props),
                group_name=translator.get_group_name(props),
                code_version=translator.get_code_version(props),
                owners=translator.get_owners(props),
                tags=translator.get_tags(props),
                kinds={"dbt", adapter} if adapter else {"dbt"},
                # dbt skips a model whose parent failed: a run may leave any of them out.
                skippable=True,
                io_manager_key=io_manager_key,
                partitions_def=partitions_def,
            )
        )
    for props in manifest.get("sources", {}).values():
        info.source_keys[(props["source_name"], props["name"])] = translator.get_asset_key(props)
    _refuse_shared_keys(manifest, translator, info)
    checks = (
        _check_specs(manifest, translator, selected, info)
        if translator.settings.enable_asset_checks
        else []
    )
    return specs, checks, info


def _refuse_shared_keys(
    manifest: Manifest, translator: DagsterDbtTranslator, info: DbtAssetsInfo
) -> None:
    """Raise when two of the nodes, or a node and a source they read, get one asset key."""
    owners: dict[AssetKey, list[str]] = {}
    for unique_id, key in info.key_by_unique_id.items():
        owners.setdefault(key, []).append(unique_id)
    read = {p for uid in info.key_by_unique_id for p in upstream_ids(node(manifest, uid))}
    for unique_id in sorted(read):
        props = manifest.get("sources", {}).get(unique_id)
        if props is not None:
            owners.setdefault(translator.get_asset_key(props), []).append(unique_id)
    shared = {k: ids for k, ids in owners.items() if len(ids) > 1}
    sources_only = all(i.startswith("source.") for ids in shared.values() for i in ids)
    if not shared or (sources_only and translator.settings.enable_duplicate_source_asset_keys):
        return
    lines = [
        f"  {key.to_user_string()}: "
        + ", ".join(f"{i} ({node(manifest, i).get('original_file_path', '?')})" for i in ids)
        for key, ids in shared.items()
    ]
    raise DefinitionError(
        "dbt resources given the same asset key (each needs its own; see the translator's "
        "get_asset_key):\n" + "\n".join(lines)
    )


def _check_specs(
    manifest: Manifest,
    translator: DagsterDbtTranslator,
    selected: set[str],
    info: DbtAssetsInfo,
) -> list[AssetCheckSpec]:
    checks: list[AssetCheckSpec] = []
    taken: set[AssetCheckKey] = set()
    for unique_id, props in manifest["nodes"].items():
        if props["resource_type"] != "test" or unique_id not in selected:
            continue
        parents = upstream_ids(props)
        attached = props.get("attached_node") or (parents[0] if len(parents) == 1 else None)
        if attached not in info.key_by_unique_id:
            continue  # a test of a source, of another definition's model, or of several
        asset_key = info.key_by_unique_id[attached]
        name = _NOT_IDENTIFIER.sub("_", str(props["name"]))
        if AssetCheckKey(asset_key, name) in taken:
            name = _NOT_IDENTIFIER.sub("_", unique_id.split(".", 2)[-1])
        others = [
            translator.get_asset_key(node(manifest, p))
            for p in parents
            if p != attached and p in manifest["nodes"] and _is_asset_node(node(manifest, p))
        ]
        spec = AssetCheckSpec(
            name,
            asset=asset_key,
            description=props.get("description") or None,
            additional_deps=others,
            metadata={"dbt/unique_id": unique_id},
        )
        taken.add(spec.key)
        info.check_by_unique_id[unique_id] = spec.key
        info.unique_id_by_check[spec.key] = unique_id
        checks.append(spec)
    return checks

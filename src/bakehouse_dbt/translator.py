"""`DagsterDbtTranslator`: how a dbt node becomes an asset (key, group, description, metadata,
code version) and a dbt test an asset check. Subclass it and override a ``get_*`` hook."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bakehouse.authoring.metadata import TableColumn, TableSchema
from bakehouse.graph.keys import AssetKey

_NOT_NAME = re.compile(r"[^A-Za-z0-9_]")


@dataclass(frozen=True)
class DagsterDbtTranslatorSettings:
    """Switches of the translation (Dagster's names).

    `enable_asset_checks`: dbt tests on one model become asset checks of it (default on).
    `enable_source_tests_as_checks`: tests of sources become checks of the source's asset too.
    """

    enable_asset_checks: bool = True
    enable_source_tests_as_checks: bool = False
    enable_duplicate_source_asset_keys: bool = False
    enable_code_references: bool = False


def _dagster_meta(props: Mapping[str, Any]) -> Mapping[str, Any]:
    """``meta.dagster`` of a node (its ``config.meta`` wins, as dbt merges them)."""
    config_meta = (props.get("config") or {}).get("meta") or {}
    meta = props.get("meta") or {}
    found = config_meta.get("dagster") or meta.get("dagster") or {}
    return found if isinstance(found, Mapping) else {}


class DagsterDbtTranslator:
    """Maps dbt resource properties (a node of ``manifest.json``) to asset attributes.

    Every hook takes ``dbt_resource_props``, the node's dict from the manifest; override one to
    change it, e.g. ``get_asset_key`` to add a prefix, ``get_group_name`` to group by folder.
    """

    def __init__(self, settings: DagsterDbtTranslatorSettings | None = None) -> None:
        self._settings = settings or DagsterDbtTranslatorSettings()

    @property
    def settings(self) -> DagsterDbtTranslatorSettings:
        """The translation's switches."""
        return self._settings

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        """``meta.dagster.asset_key`` if set; a source ``[source_name, table]``; a node with a
        custom schema ``[schema, name]``; else ``[name]`` (a versioned model: its alias)."""
        configured = _dagster_meta(dbt_resource_props).get("asset_key")
        if configured:
            return AssetKey(tuple(configured) if not isinstance(configured, str) else configured)
        if dbt_resource_props["resource_type"] == "source":
            return AssetKey((dbt_resource_props["source_name"], dbt_resource_props["name"]))
        if dbt_resource_props.get("version"):
            return AssetKey(dbt_resource_props["alias"])
        schema = (dbt_resource_props.get("config") or {}).get("schema")
        if schema:
            return AssetKey((schema, dbt_resource_props["name"]))
        return AssetKey(dbt_resource_props["name"])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        """``meta.dagster.group`` if set, else the node's dbt group, else None (``default``)."""
        group = _dagster_meta(dbt_resource_props).get("group")
        if group:
            return str(group)
        dbt_group = (dbt_resource_props.get("config") or {}).get("group")
        return str(dbt_group) if dbt_group else None

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        """The node's dbt description (or ``dbt model NAME``), then its raw SQL."""
        kind = dbt_resource_props["resource_type"]
        text = dbt_resource_props.get("description") or f"dbt {kind} {dbt_resource_props['name']}"
        code = dbt_resource_props.get("raw_code") or dbt_resource_props.get("raw_sql") or ""
        if not code.strip():
            return str(text)
        return f"{text}\n\n#### Raw SQL:\n```sql\n{code.strip()}\n```"

    def get_metadata(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, Any]:
        """The node's columns as ``dagster/column_schema`` (a table schema) and its relation
        as ``dagster/table_name``."""
        metadata: dict[str, Any] = {}
        columns = dbt_resource_props.get("columns") or {}
        if columns:
            metadata["dagster/column_schema"] = TableSchema(
                columns=[
                    TableColumn(
                        name=str(column.get("name", name)),
                        type=str(column.get("data_type") or "?"),
                        description=column.get("description") or None,
                    )
                    for name, column in columns.items()
                ]
            )
        relation = relation_name(dbt_resource_props)
        if relation:
            metadata["dagster/table_name"] = relation
        return metadata

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        """The node's dbt tags, each as a tag with an empty value."""
        tags = dbt_resource_props.get("tags") or []
        return {str(tag): "" for tag in tags if not _NOT_NAME.search(str(tag))}

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> Sequence[str] | None:
        """``meta.dagster.owners``, or the owner of the node's dbt group (its email)."""
        owners = _dagster_meta(dbt_resource_props).get("owners")
        return [str(o) for o in owners] if owners else None

    def get_code_version(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        """The checksum dbt computed of the node's file, so editing the SQL changes it."""
        checksum = dbt_resource_props.get("checksum") or {}
        value = checksum.get("checksum")
        return str(value) if value else None


def relation_name(props: Mapping[str, Any]) -> str | None:
    """``database.schema.alias`` of a node (unquoted), or None for one without a relation."""
    parts = [props.get("database"), props.get("schema"), props.get("alias") or props.get("name")]
    if not all(parts) or props.get("resource_type") == "test":
        return None
    return ".".join(str(p) for p in parts)


def validate_translator(translator: Any) -> DagsterDbtTranslator:
    """`translator`, which must be a `DagsterDbtTranslator` (an instance, not the class)."""
    from bakehouse.errors import DefinitionError

    if translator is None:
        return DagsterDbtTranslator()
    if isinstance(translator, type) and issubclass(translator, DagsterDbtTranslator):
        raise DefinitionError(
            f"dagster_dbt_translator={translator.__name__} is a class; pass an instance: "
            f"{translator.__name__}()"
        )
    if not isinstance(translator, DagsterDbtTranslator):
        raise DefinitionError(
            "dagster_dbt_translator must be a DagsterDbtTranslator, got "
            f"{type(translator).__name__}"
        )
    return translator

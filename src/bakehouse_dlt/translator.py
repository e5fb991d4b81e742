"""How a dlt resource becomes an asset: its key, upstream deps, group, description and kinds.

Subclass `DagsterDltTranslator` and override `get_asset_spec` (or one of the older per-field
methods, `get_asset_key`, `get_deps_asset_keys`, ...) to change them, as in Dagster.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bakehouse.authoring.assets import AssetSpec
from bakehouse.graph.keys import AssetKey


@dataclass(frozen=True)
class DltResourceTranslatorData:
    """What the translator is given for one dlt resource: the resource and the pipeline's
    destination (None where no pipeline is known)."""

    resource: Any
    destination: Any = None
    pipeline: Any = None


def _root_pipe_name(resource: Any) -> str:
    """The name of the resource a transformer ultimately reads from (itself if not one)."""
    pipe = resource._pipe  # dlt keeps a transformer's parent only on its pipe
    while pipe.has_parent:
        pipe = pipe.parent
    return str(pipe.name)


class DagsterDltTranslator:
    """Dagster's defaults: key ``dlt_<source>_<resource>``, one upstream dep on the data it
    loads (``<source>_<resource>``, or the resource a transformer reads), description from the
    resource function's docstring, kinds ``dlt`` and the destination's name."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> AssetSpec:
        """The asset spec of one dlt resource, built from the per-field methods."""
        resource = data.resource
        return AssetSpec(
            key=self.get_asset_key(resource),
            deps=list(self.get_deps_asset_keys(resource)),
            description=self.get_description(resource),
            group_name=self.get_group_name(resource),
            metadata=self.get_metadata(resource),
            owners=self.get_owners(resource),
            tags=self.get_tags(resource),
            kinds=self.get_kinds(resource, data.destination),
            automation_condition=self.get_automation_condition(resource),
        )

    def get_asset_key(self, resource: Any) -> AssetKey:
        """``dlt_<source name>_<resource name>``."""
        return AssetKey(f"dlt_{resource.source_name}_{resource.name}")

    def get_deps_asset_keys(self, resource: Any) -> Iterable[AssetKey]:
        """The data the resource loads, as an upstream asset key."""
        name = _root_pipe_name(resource) if resource.is_transformer else resource.name
        return [AssetKey(f"{resource.source_name}_{name}")]

    def get_description(self, resource: Any) -> str | None:
        """The docstring of the resource's function, when it is one function."""
        steps = resource._pipe.steps  # the functions the resource is built from
        if len(steps) == 1 and callable(steps[0]):
            doc = getattr(steps[0], "__doc__", None)
            return doc.strip() if isinstance(doc, str) else None
        return None

    def get_group_name(self, resource: Any) -> str | None:
        """No group: the location's default."""
        return None

    def get_metadata(self, resource: Any) -> Mapping[str, Any]:
        """No metadata of its own."""
        return {}

    def get_owners(self, resource: Any) -> Sequence[str] | None:
        """No owners."""
        return None

    def get_tags(self, resource: Any) -> Mapping[str, str]:
        """No tags."""
        return {}

    def get_kinds(self, resource: Any, destination: Any) -> set[str]:
        """``dlt`` and the destination's name (``duckdb``, ``snowflake``, ...)."""
        kinds = {"dlt"}
        if destination is not None:
            kinds.add(str(destination.destination_name))
        return kinds

    def get_automation_condition(self, resource: Any) -> Any:
        """None: the asset is not automated."""
        return None

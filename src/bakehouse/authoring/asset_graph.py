"""The resolved asset graph of one code location: every asset, its definition, its edges and
the checks of each asset.

Built once when `Definitions` are resolved; refuses duplicate keys and duplicate check names on
one asset (naming both places) and cycles (naming the path). Dependencies and check targets that
nobody here defines are kept as external assets (they may live in another code location).
"""

from __future__ import annotations

from collections.abc import Iterable

from bakehouse.authoring.asset_checks import AssetChecksDefinition
from bakehouse.authoring.assets import AssetsDefinition, AssetSpec
from bakehouse.authoring.check_spec import AssetCheckKey, AssetCheckSpec
from bakehouse.errors import CycleError, DuplicateKeyError, SourceLocation
from bakehouse.graph.dag import KeyGraph, NodeInfo
from bakehouse.graph.keys import AssetKey


class AssetGraph:
    """Assets by key, with the `KeyGraph` that selection and planning walk."""

    def __init__(
        self,
        assets: Iterable[AssetsDefinition | AssetSpec],
        checks: Iterable[AssetChecksDefinition] = (),
    ) -> None:
        self.assets_defs: list[AssetsDefinition] = []
        self.assets_def_by_key: dict[AssetKey, AssetsDefinition] = {}
        self.specs: dict[AssetKey, AssetSpec] = {}
        self.external_keys: set[AssetKey] = set()
        for item in assets:
            if isinstance(item, AssetsDefinition):
                self.assets_defs.append(item)
                for spec in item.specs:
                    self._add_spec(spec)
                    self.assets_def_by_key[spec.key] = item
            else:
                self._add_spec(item)
                self.external_keys.add(item.key)
        # A dependency that no asset here defines stays in the graph as an external asset: it
        # may live in another code location, or outside bakehouse altogether.
        self.undefined_keys: set[AssetKey] = {
            dep for spec in list(self.specs.values()) for dep in spec.deps if dep not in self.specs
        }
        # Every check by key: a check function run as its own step, or an asset step that
        # evaluates the check itself (its check_specs).
        self.check_specs: dict[AssetCheckKey, AssetCheckSpec] = {}
        self.check_sources: dict[AssetCheckKey, SourceLocation | None] = {}
        self.checks_defs: list[AssetChecksDefinition] = list(checks)
        self.check_def_by_key: dict[AssetCheckKey, AssetChecksDefinition | AssetsDefinition] = {}
        for assets_def in self.assets_defs:
            for check_spec in assets_def.check_specs:
                self._add_check(check_spec, assets_def, assets_def.source)
        for check_def in self.checks_defs:
            for check_spec in check_def.check_specs:
                self._add_check(check_spec, check_def, check_def.source)
            # As Dagster does, a check of an asset nobody here defines targets an external
            # stub; the host finds the asset in another location, or reports that none has it.
            self.undefined_keys |= {k for k in check_def.dependency_keys if k not in self.specs}
        self.key_graph = KeyGraph(self._nodes())
        cycle = self.key_graph.find_cycle()
        if cycle:
            raise CycleError(
                cycle, [self.specs[AssetKey.from_user_string(k)].source for k in cycle]
            )

    def _add_spec(self, spec: AssetSpec) -> None:
        existing = self.specs.get(spec.key)
        if existing is not None:
            raise DuplicateKeyError(
                "asset", spec.key.to_user_string(), existing.source, spec.source
            )
        self.specs[spec.key] = spec

    def _add_check(
        self,
        spec: AssetCheckSpec,
        owner: AssetChecksDefinition | AssetsDefinition,
        source: SourceLocation | None,
    ) -> None:
        if spec.key in self.check_specs:
            raise DuplicateKeyError(
                "asset check", spec.key.to_user_string(), self.check_sources[spec.key], source
            )
        self.check_specs[spec.key] = spec
        self.check_sources[spec.key] = source
        self.check_def_by_key[spec.key] = owner

    def checks_of(self, keys: Iterable[AssetKey]) -> list[AssetCheckKey]:
        """The keys of the checks of the assets `keys`, in a stable order."""
        wanted = set(keys)
        return sorted(k for k in self.check_specs if k.asset_key in wanted)

    def _nodes(self) -> list[NodeInfo]:
        nodes = [
            NodeInfo(
                key=key.to_user_string(),
                parents=tuple(d.to_user_string() for d in spec.deps),
                group=spec.group_name,
                kinds=spec.kinds,
                tags=spec.tags,
                owners=spec.owners,
                is_external=key in self.external_keys,
            )
            for key, spec in self.specs.items()
        ]
        nodes.extend(
            NodeInfo(key=key.to_user_string(), is_external=True) for key in self.undefined_keys
        )
        return nodes

    @property
    def executable_keys(self) -> set[AssetKey]:
        """Keys some function here materializes."""
        return set(self.assets_def_by_key)

    def get_all_asset_keys(self) -> set[AssetKey]:
        """Every key in the graph: materializable here, declared by specs, or only depended on
        (Dagster's name)."""
        return set(self.specs) | self.undefined_keys

    @property
    def all_asset_keys(self) -> set[AssetKey]:
        """`get_all_asset_keys()`, as a property."""
        return self.get_all_asset_keys()

    def has(self, key: AssetKey) -> bool:
        """True if `key` is in the graph."""
        return key in self.specs or key in self.undefined_keys

    def is_external(self, key: AssetKey) -> bool:
        """True for AssetSpecs and for dependencies nothing here defines."""
        return key in self.external_keys or key in self.undefined_keys

    def toposorted_keys(self, keys: Iterable[AssetKey] | None = None) -> list[AssetKey]:
        """`keys` (default all) in dependency order."""
        wanted = None if keys is None else [k.to_user_string() for k in keys]
        return [AssetKey.from_user_string(k) for k in self.key_graph.toposort(wanted)]

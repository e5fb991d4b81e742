"""A location loaded with errors: what its failed defs modules took away, shown as missing.

Host side, from snapshots only. The code server names a failed module's likely keys when other
assets depend on them (`AssetNodeSnap.failed_module`); an asset of that module nothing depends
on would vanish without a trace, so a reload keeps a placeholder for every asset the previous
snapshot had from a file of a module that now fails.
"""

from __future__ import annotations

import os

from bakehouse import serdes
from bakehouse.protocol.snapshot import AssetNodeSnap, LocationSnap, ModuleErrorSnap


def _owner(source_file: str | None, errors: tuple[ModuleErrorSnap, ...]) -> ModuleErrorSnap | None:
    """The failed module whose file (or package folder, or component folder) holds
    `source_file`."""
    if not source_file:
        return None
    path = os.path.realpath(source_file)
    for error in errors:
        own = os.path.realpath(error.path)
        folder = os.path.dirname(own) + os.sep
        is_folder = os.path.basename(own) in ("__init__.py", "defs.yaml")
        if path == own or (is_folder and path.startswith(folder)):
            return error
    return None


def with_missing_assets(new: LocationSnap, previous: LocationSnap | None) -> LocationSnap:
    """`new`, plus a placeholder for each asset of `previous` that a module failing in `new`
    defined; undefined keys already in `new` get the module if the code server named none."""
    if not new.module_errors or previous is None:
        return new
    errors = new.module_errors
    nodes = {node.key: node for node in new.assets}
    added: list[AssetNodeSnap] = []
    for old in previous.assets:
        if old.is_undefined:
            # A placeholder of the previous load: kept while its module's file still fails.
            file = old.failed_module.rpartition(":")[0] if old.failed_module else None
            owner = next((e for e in errors if file and e.file == file), None)
        else:
            owner = _owner(old.source_file, errors)
        if owner is None:
            continue
        current = nodes.get(old.key)
        if current is None:
            added.append(
                AssetNodeSnap(
                    key=old.key,
                    group=old.group,
                    is_external=True,
                    is_undefined=True,
                    failed_module=owner.where,
                )
            )
        elif current.is_undefined and current.failed_module is None:
            nodes[old.key] = serdes.replace(current, failed_module=owner.where)
    if not added and all(nodes[n.key] is n for n in new.assets):
        return new
    assets = tuple(nodes[n.key] for n in new.assets) + tuple(added)
    return serdes.replace(new, assets=assets)


def failed_module_of(node: AssetNodeSnap | None) -> str | None:
    """``file:line`` of the failed module a missing asset was defined in, if that is why it is
    missing."""
    return node.failed_module if node is not None and node.is_undefined else None

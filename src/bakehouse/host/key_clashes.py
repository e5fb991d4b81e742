"""Asset keys that two code locations both define.

An asset key belongs to one location. By default the location that comes later (loaded later
by the supervisor; listed later in the workspace for ``bh check defs``) fails to load, with an
error naming both definitions' file:line. With ``allow_duplicate_asset_keys = true`` in
``[tool.bakehouse.workspace]`` both load, the first location (by name) materializes the key,
and the conflict is shown (locations page, asset page, ``bh check defs``): never silent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bakehouse.errors import ErrorInfo
from bakehouse.protocol.snapshot import AssetNodeSnap, LocationSnap

SETTING = "allow_duplicate_asset_keys"


@dataclass(frozen=True)
class KeyClash:
    """One key that `location` defines and `other_location` defined first."""

    key: str
    location: str
    where: str
    other_location: str
    other_where: str


def _where(node: AssetNodeSnap) -> str:
    if node.source_file is None:
        return "an unknown place"
    return f"{node.source_file}:{node.source_line}" if node.source_line else node.source_file


def _defined(snap: LocationSnap) -> dict[str, AssetNodeSnap]:
    # External specs and keys a location only depends on are not definitions.
    return {n.key: n for n in snap.assets if not n.is_external and not n.is_undefined}


def clashes(snap: LocationSnap, earlier: Iterable[LocationSnap]) -> list[KeyClash]:
    """The keys `snap` defines that a location in `earlier` defines already."""
    mine = _defined(snap)
    found: list[KeyClash] = []
    for other in earlier:
        if other.name == snap.name:
            continue
        theirs = _defined(other)
        for key in sorted(mine.keys() & theirs.keys()):
            found.append(
                KeyClash(key, snap.name, _where(mine[key]), other.name, _where(theirs[key]))
            )
    return found


def describe(clash: KeyClash) -> str:
    """One line naming both definitions."""
    return (
        f"asset key '{clash.key}' is defined at {clash.where} in code location "
        f"'{clash.location}' and at {clash.other_where} in code location "
        f"'{clash.other_location}'"
    )


def load_error(found: list[KeyClash]) -> ErrorInfo:
    """The load error of the later location of `found` (all of one location)."""
    lines = "\n".join(f"  {describe(c)}" for c in found)
    return ErrorInfo(
        cls_name="DuplicateKeyError",
        message=(
            f"code location '{found[0].location}' defines {len(found)} asset key"
            f"{'s' if len(found) > 1 else ''} another location defines:\n{lines}\n"
            "An asset key belongs to one code location: rename one (or give it a key_prefix), "
            f"or set {SETTING} = true in [tool.bakehouse.workspace] to load both and use the "
            "first location's."
        ),
        stack=[],
    )

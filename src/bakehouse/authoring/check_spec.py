"""What names an asset check: `AssetCheckKey` (asset key + check name) and `AssetCheckSpec`.

Kept apart from `asset_checks` so that `@asset(check_specs=[...])` can use specs without the
assets module importing the check decorator (which imports the assets module).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bakehouse.errors import DefinitionError
from bakehouse.graph.keys import AssetKey, coerce_key


@dataclass(frozen=True, order=True)
class AssetCheckKey:
    """One check of one asset: the asset's key and the check's name (unique per asset)."""

    asset_key: AssetKey
    name: str

    def to_user_string(self) -> str:
        """``asset/key:check_name``, as the CLI and UI print it."""
        return f"{self.asset_key.to_user_string()}:{self.name}"

    def to_python_identifier(self) -> str:
        """The step key of a check run on its own: the asset's identifier, then the name."""
        return f"{self.asset_key.to_python_identifier()}_{self.name}"

    def __str__(self) -> str:
        return self.to_user_string()


def target_key(asset: Any, what: str) -> AssetKey:
    """The key of the asset a check targets: an asset, an `AssetSpec`, a key or a key string."""
    if isinstance(asset, AssetKey):
        return asset
    if isinstance(asset, (str, list, tuple)):
        try:
            return coerce_key(asset)
        except (TypeError, ValueError) as exc:
            raise DefinitionError(f"{what}: asset={asset!r} is not an asset key ({exc})") from None
    keys = getattr(asset, "keys", None)
    if isinstance(keys, list) and len(keys) != 1:
        raise DefinitionError(
            f"{what}: asset={asset!r} defines {len(keys)} assets; name one with AssetKey(...)"
        )
    key = getattr(asset, "key", None)
    if isinstance(key, AssetKey):
        return key
    raise DefinitionError(
        f"{what}: asset= must be an asset, an AssetSpec, an AssetKey or a key string, got {asset!r}"
    )


@dataclass(frozen=True, init=False)
class AssetCheckSpec:
    """A check declared without its own function: ``@asset(check_specs=[AssetCheckSpec(...)])``
    evaluates it inside the asset's step; `@asset_check` builds one for its function.
    """

    name: str
    asset_key: AssetKey
    description: str | None = None
    blocking: bool = False
    additional_deps: tuple[AssetKey, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __init__(
        self,
        name: str,
        *,
        asset: Any,
        description: str | None = None,
        blocking: bool = False,
        additional_deps: Iterable[Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(name, str) or not name.isidentifier():
            raise DefinitionError(
                f"asset check name {name!r} must be a Python identifier (letters, digits, '_')"
            )
        set_ = object.__setattr__
        set_(self, "name", name)
        set_(self, "asset_key", target_key(asset, f"asset check '{name}'"))
        set_(self, "description", description)
        set_(self, "blocking", bool(blocking))
        deps = [target_key(d, f"asset check '{name}'") for d in additional_deps or ()]
        set_(self, "additional_deps", tuple(deps))
        set_(self, "metadata", dict(metadata or {}))

    @property
    def key(self) -> AssetCheckKey:
        """This check's key."""
        return AssetCheckKey(self.asset_key, self.name)

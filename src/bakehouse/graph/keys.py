"""`AssetKey`: the global name of an asset, a path of one or more parts."""

from __future__ import annotations

import re
from collections.abc import Sequence

_PART = re.compile(r"^[A-Za-z0-9_\-.]+$")


class AssetKey:
    """The key of an asset: ``AssetKey("orders")`` or ``AssetKey(["raw", "orders"])``.

    Keys are global across code locations; their user string joins the parts with ``/``.
    """

    __slots__ = ("_hash", "path")

    def __init__(self, path: str | Sequence[str]) -> None:
        parts = (path,) if isinstance(path, str) else tuple(path)
        if not parts:
            raise ValueError("an AssetKey needs at least one part")
        for part in parts:
            if not isinstance(part, str) or not _PART.match(part):
                raise ValueError(
                    f"invalid asset key part {part!r} in {list(parts)}: use letters, digits, "
                    "'_', '-' and '.'"
                )
        self.path: tuple[str, ...] = parts
        self._hash = hash(parts)

    @classmethod
    def from_user_string(cls, text: str) -> AssetKey:
        """Parse ``"raw/orders"`` into ``AssetKey(["raw", "orders"])``."""
        return cls(text.strip().split("/"))

    def to_user_string(self) -> str:
        """The key as users write it: parts joined with ``/``."""
        return "/".join(self.path)

    def to_python_identifier(self) -> str:
        """A name usable as a Python identifier or a step key: parts joined with ``__``."""
        return "__".join(self.path).replace("-", "_").replace(".", "_")

    def with_prefix(self, prefix: str | Sequence[str]) -> AssetKey:
        """This key under `prefix`."""
        extra = (prefix,) if isinstance(prefix, str) else tuple(prefix)
        return AssetKey((*extra, *self.path))

    @property
    def parent(self) -> AssetKey | None:
        """The key without its last part, if it has more than one."""
        return AssetKey(self.path[:-1]) if len(self.path) > 1 else None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AssetKey) and other.path == self.path

    def __lt__(self, other: AssetKey) -> bool:
        return self.path < other.path

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"AssetKey({list(self.path)!r})"

    def __str__(self) -> str:
        return self.to_user_string()


CoercibleToAssetKey = AssetKey | str | Sequence[str]


def coerce_key(value: CoercibleToAssetKey) -> AssetKey:
    """Turn a key, a ``"a/b"`` string or a list of parts into an `AssetKey`."""
    if isinstance(value, AssetKey):
        return value
    if isinstance(value, str):
        return AssetKey.from_user_string(value)
    if isinstance(value, (list, tuple)):
        return AssetKey(value)
    raise TypeError(f"cannot use {value!r} as an asset key: give an AssetKey, 'a/b' or ['a', 'b']")

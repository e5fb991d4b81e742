"""`AssetSelection`: composable, Python-side selections of assets, as in Dagster."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from bakehouse.graph.dag import KeyGraph
from bakehouse.graph.keys import AssetKey, CoercibleToAssetKey, coerce_key
from bakehouse.graph.selection import parse_selection

_Select = Callable[[KeyGraph], set[str]]


class AssetSelection:
    """A selection of assets, evaluated against a graph when a job or run needs it.

    Build with `all()`, `assets(...)`, `keys(...)`, `groups(...)`, `kinds(...)`,
    `key_prefixes(...)` or `from_string(...)`; combine with ``|``, ``&`` and ``-``; widen with
    `upstream()` / `downstream()`.
    """

    def __init__(self, select: _Select, description: str) -> None:
        self._select = select
        self.description = description

    def resolve(self, graph: KeyGraph) -> set[str]:
        """The user-string keys selected in `graph`."""
        return self._select(graph)

    @classmethod
    def all(cls) -> AssetSelection:
        """Every asset that can be materialized here."""
        return cls(lambda g: {k for k, n in g.nodes.items() if not n.is_external}, "*")

    @classmethod
    def assets(cls, *assets: object) -> AssetSelection:
        """The given asset definitions, specs or keys."""
        from bakehouse.authoring.assets import coerce_deps

        keys = [k.to_user_string() for k in coerce_deps(assets)]
        return cls._exact(keys)

    @classmethod
    def keys(cls, *keys: CoercibleToAssetKey) -> AssetSelection:
        """The given keys (`AssetKey`, ``"a/b"`` or parts)."""
        return cls._exact([coerce_key(k).to_user_string() for k in keys])

    @classmethod
    def _exact(cls, keys: list[str]) -> AssetSelection:
        def select(g: KeyGraph) -> set[str]:
            from bakehouse.errors import SelectionError

            missing = [k for k in keys if k not in g.nodes]
            if missing:
                raise SelectionError(f"selection names unknown asset keys: {missing}")
            return set(keys)

        return cls(select, ", ".join(keys))

    @classmethod
    def groups(cls, *names: str) -> AssetSelection:
        """Assets in any of the given groups."""
        return cls(
            lambda g: {k for k, n in g.nodes.items() if n.group in names},
            " or ".join(f"group:{n}" for n in names),
        )

    @classmethod
    def kinds(cls, *kinds: str) -> AssetSelection:
        """Assets with any of the given kinds."""
        return cls(
            lambda g: {k for k, n in g.nodes.items() if n.kinds & set(kinds)},
            " or ".join(f"kind:{n}" for n in kinds),
        )

    @classmethod
    def key_prefixes(cls, *prefixes: str | Iterable[str]) -> AssetSelection:
        """Assets whose key starts with any of the given prefixes."""
        parts = [(p,) if isinstance(p, str) else tuple(p) for p in prefixes]

        def select(g: KeyGraph) -> set[str]:
            found = set()
            for key in g.nodes:
                path = AssetKey.from_user_string(key).path
                if any(path[: len(p)] == p for p in parts):
                    found.add(key)
            return found

        return cls(select, " or ".join("key:" + "/".join(p) + "/*" for p in parts))

    @classmethod
    def from_string(cls, text: str) -> AssetSelection:
        """A selection in the string syntax of `bh launch --assets`."""
        return cls(parse_selection(text), text)

    def upstream(self, depth: int | None = None) -> AssetSelection:
        """This selection and what is upstream of it, up to `depth` levels."""
        return AssetSelection(
            lambda g: g.upstream(self._select(g), depth), f"{depth or ''}+({self.description})"
        )

    def downstream(self, depth: int | None = None) -> AssetSelection:
        """This selection and what is downstream of it, up to `depth` levels."""
        return AssetSelection(
            lambda g: g.downstream(self._select(g), depth), f"({self.description})+{depth or ''}"
        )

    def __or__(self, other: AssetSelection) -> AssetSelection:
        return AssetSelection(
            lambda g: self._select(g) | other._select(g),
            f"({self.description}) or ({other.description})",
        )

    def __and__(self, other: AssetSelection) -> AssetSelection:
        return AssetSelection(
            lambda g: self._select(g) & other._select(g),
            f"({self.description}) and ({other.description})",
        )

    def __sub__(self, other: AssetSelection) -> AssetSelection:
        return AssetSelection(
            lambda g: self._select(g) - other._select(g),
            f"({self.description}) and not ({other.description})",
        )

    def __repr__(self) -> str:
        return f"AssetSelection({self.description!r})"


def coerce_selection(value: object) -> AssetSelection:
    """An `AssetSelection` from a selection, a string, or a list of assets/keys."""
    if isinstance(value, AssetSelection):
        return value
    if isinstance(value, str):
        return AssetSelection.from_string(value)
    if isinstance(value, Iterable):
        return AssetSelection.assets(*value)
    raise TypeError(f"cannot select assets with {value!r}")

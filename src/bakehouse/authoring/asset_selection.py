"""`AssetSelection`: composable, Python-side selections of assets, as in Dagster."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable

from bakehouse.authoring.check_spec import AssetCheckKey
from bakehouse.graph.dag import KeyGraph
from bakehouse.graph.keys import AssetKey, CoercibleToAssetKey, coerce_key
from bakehouse.graph.selection import parse_selection

_Select = Callable[[KeyGraph], set[str]]
# The checks selected, given the graph and every check defined; None means "the checks of
# the selected assets" (Dagster's rule: selecting an asset selects its checks).
_SelectChecks = Callable[[KeyGraph, frozenset[AssetCheckKey]], set[AssetCheckKey]]


class AssetSelection:
    """A selection of assets, evaluated against a graph when a job or run needs it.

    Build with `all()`, `assets(...)`, `keys(...)`, `groups(...)`, `kinds(...)`,
    `key_prefixes(...)` or `from_string(...)`; combine with ``|``, ``&`` and ``-``; widen with
    `upstream()` / `downstream()`. Selecting an asset selects its checks too; select checks
    with `checks(...)`, `checks_for_assets(...)` or `all_asset_checks()`, and drop them with
    `without_checks()`.
    """

    def __init__(
        self,
        select: _Select,
        description: str,
        checks: _SelectChecks | None = None,
        *,
        identity: Hashable | None = None,
    ) -> None:
        self._select = select
        self._checks = checks
        self.description = description
        # What the selection is made of, for equality: two selections built the same way from
        # the same keys are equal, however each key was spelled. None: equal only to itself.
        self._identity = identity

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AssetSelection):
            return NotImplemented
        if self._identity is None or other._identity is None:
            return self is other
        return self._identity == other._identity

    def __hash__(self) -> int:
        return hash(self._identity) if self._identity is not None else id(self)

    def resolve(self, graph: KeyGraph) -> set[str]:
        """The user-string keys selected in `graph`."""
        return self._select(graph)

    def resolve_checks(
        self, graph: KeyGraph, checks: Iterable[AssetCheckKey]
    ) -> set[AssetCheckKey]:
        """The checks selected among `checks` (every check defined with `graph`)."""
        return self._select_checks(graph, frozenset(checks))

    def _select_checks(
        self, graph: KeyGraph, checks: frozenset[AssetCheckKey]
    ) -> set[AssetCheckKey]:
        if self._checks is not None:
            return self._checks(graph, checks)
        assets = self._select(graph)
        return {c for c in checks if c.asset_key.to_user_string() in assets}

    @classmethod
    def checks(cls, *checks: object) -> AssetSelection:
        """The given checks only (`AssetCheckKey`s, or check definitions for all theirs), not
        their assets: a run of them loads each asset's latest value."""
        keys: list[AssetCheckKey] = []
        for item in checks:
            if isinstance(item, AssetCheckKey):
                keys.append(item)
            elif isinstance(getattr(item, "check_keys", None), list):
                keys.extend(getattr(item, "check_keys"))  # noqa: B009 - any checks definition
            else:
                raise TypeError(
                    f"AssetSelection.checks takes AssetCheckKeys or asset checks, not {item!r}"
                )

        def select(g: KeyGraph, defined: frozenset[AssetCheckKey]) -> set[AssetCheckKey]:
            from bakehouse.errors import SelectionError

            missing = [str(k) for k in keys if k not in defined]
            if missing:
                raise SelectionError(f"selection names unknown asset checks: {missing}")
            return set(keys)

        return cls(
            lambda g: set(),
            "checks " + ", ".join(str(k) for k in keys),
            select,
            identity=("checks", frozenset(keys)),
        )

    @classmethod
    def checks_for_assets(cls, *assets: object) -> AssetSelection:
        """Every check of the given assets (definitions, specs or keys), not the assets."""
        from bakehouse.authoring.assets import coerce_deps

        wanted = set(coerce_deps(assets))
        return cls(
            lambda g: set(),
            "checks of " + ", ".join(k.to_user_string() for k in sorted(wanted)),
            lambda g, defined: {c for c in defined if c.asset_key in wanted},
            identity=("checks_for_assets", frozenset(wanted)),
        )

    @classmethod
    def all_asset_checks(cls) -> AssetSelection:
        """Every check defined here, and no asset."""
        return cls(
            lambda g: set(),
            "all asset checks",
            lambda g, defined: set(defined),
            identity=("all_asset_checks",),
        )

    def without_checks(self) -> AssetSelection:
        """The assets of this selection, without any check."""
        return AssetSelection(
            self._select,
            f"({self.description}) without checks",
            lambda g, defined: set(),
            identity=_derived("without_checks", self),
        )

    @classmethod
    def all(cls) -> AssetSelection:
        """Every asset that can be materialized here."""
        return cls(
            lambda g: {k for k, n in g.nodes.items() if not n.is_external}, "*", identity=("all",)
        )

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

        return cls(select, ", ".join(keys), identity=("keys", frozenset(keys)))

    @classmethod
    def groups(cls, *names: str) -> AssetSelection:
        """Assets in any of the given groups."""
        return cls(
            lambda g: {k for k, n in g.nodes.items() if n.group in names},
            " or ".join(f"group:{n}" for n in names),
            identity=("groups", frozenset(names)),
        )

    @classmethod
    def kinds(cls, *kinds: str) -> AssetSelection:
        """Assets with any of the given kinds."""
        return cls(
            lambda g: {k for k, n in g.nodes.items() if n.kinds & set(kinds)},
            " or ".join(f"kind:{n}" for n in kinds),
            identity=("kinds", frozenset(kinds)),
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

        return cls(
            select,
            " or ".join("key:" + "/".join(p) + "/*" for p in parts),
            identity=("key_prefixes", frozenset(parts)),
        )

    @classmethod
    def from_string(cls, text: str) -> AssetSelection:
        """A selection in the string syntax of `bh launch --assets`."""
        return cls(parse_selection(text), text, identity=("string", text))

    def upstream(self, depth: int | None = None) -> AssetSelection:
        """This selection and what is upstream of it, up to `depth` levels."""
        return AssetSelection(
            lambda g: g.upstream(self._select(g), depth),
            f"{depth or ''}+({self.description})",
            identity=_derived(("upstream", depth), self),
        )

    def downstream(self, depth: int | None = None) -> AssetSelection:
        """This selection and what is downstream of it, up to `depth` levels."""
        return AssetSelection(
            lambda g: g.downstream(self._select(g), depth),
            f"({self.description})+{depth or ''}",
            identity=_derived(("downstream", depth), self),
        )

    # Set operations apply to the assets and, apart, to the checks each side selects.
    def __or__(self, other: AssetSelection) -> AssetSelection:
        return AssetSelection(
            lambda g: self._select(g) | other._select(g),
            f"({self.description}) or ({other.description})",
            lambda g, c: self._select_checks(g, c) | other._select_checks(g, c),
            identity=_derived("or", self, other),
        )

    def __and__(self, other: AssetSelection) -> AssetSelection:
        return AssetSelection(
            lambda g: self._select(g) & other._select(g),
            f"({self.description}) and ({other.description})",
            lambda g, c: self._select_checks(g, c) & other._select_checks(g, c),
            identity=_derived("and", self, other),
        )

    def __sub__(self, other: AssetSelection) -> AssetSelection:
        return AssetSelection(
            lambda g: self._select(g) - other._select(g),
            f"({self.description}) and not ({other.description})",
            lambda g, c: self._select_checks(g, c) - other._select_checks(g, c),
            identity=_derived("minus", self, other),
        )

    def __repr__(self) -> str:
        return f"AssetSelection({self.description!r})"


def _derived(operation: Hashable, *parts: AssetSelection) -> Hashable | None:
    """The identity of a selection built from `parts`; None if any part has none."""
    identities = [p._identity for p in parts]
    if any(i is None for i in identities):
        return None
    return (operation, *identities)


def coerce_selection(value: object) -> AssetSelection:
    """An `AssetSelection` from a selection, a string, or a list of assets/keys."""
    if isinstance(value, AssetSelection):
        return value
    if isinstance(value, str):
        return AssetSelection.from_string(value)
    # One asset, spec or key stands for a selection of it, as in Dagster.
    if isinstance(value, AssetKey) or hasattr(value, "specs") or hasattr(value, "key"):
        return AssetSelection.assets(value)
    if isinstance(value, Iterable):
        return AssetSelection.assets(*value)
    raise TypeError(f"cannot select assets with {value!r}")

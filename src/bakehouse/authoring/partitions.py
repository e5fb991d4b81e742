"""Partitions definitions: the keys an asset is split into (static, multi-dimensional, dynamic).

Time-window definitions (hourly, daily, weekly, monthly, cron) live in `time_window_partitions`.
Every definition answers the same questions: its keys (``get_partition_keys``), its first and
last key, whether a key belongs to it, and the keys of a `PartitionKeyRange`. Keys are the
strings Dagster gives for the same definition.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

from bakehouse.authoring.run_request import (
    AddDynamicPartitionsRequest,
    DeleteDynamicPartitionsRequest,
)
from bakehouse.authoring.source import caller_source
from bakehouse.errors import DefinitionError, UnknownPartitionError

if TYPE_CHECKING:
    from bakehouse.authoring.time_window_partitions import TimeWindow

MULTIPARTITION_KEY_DELIMITER = "|"
# Characters a static key may not hold inside a multi-partitions definition (as in Dagster).
_INVALID_MULTI_KEY_CHARACTERS = frozenset("|,[]")


class PartitionKeyRange(NamedTuple):
    """The partitions from `start` to `end`, both included, in the definition's key order."""

    start: str
    end: str


@runtime_checkable
class DynamicPartitionsStore(Protocol):
    """Where the keys of dynamic partitions definitions are kept; the instance is one.

    Pass ``context.instance`` wherever a method takes ``dynamic_partitions_store``.
    """

    def get_dynamic_partitions(self, partitions_def_name: str) -> Sequence[str]:
        """The keys of the dynamic partitions definition called `partitions_def_name`."""

    def has_dynamic_partition(self, partitions_def_name: str, partition_key: str) -> bool:
        """True if `partition_key` was added to `partitions_def_name` and not deleted since."""


class PartitionsDefinition:
    """The set of partitions an asset or job is split into. Subclasses define the keys."""

    def get_partition_keys(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> Sequence[str]:
        """Every partition key, in order (time keys only for windows complete at `current_time`)."""
        raise NotImplementedError

    def get_first_partition_key(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> str | None:
        """The first key, or None if there are no partitions."""
        keys = self.get_partition_keys(current_time, dynamic_partitions_store)
        return keys[0] if keys else None

    def get_last_partition_key(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> str | None:
        """The last key, or None if there are no partitions."""
        keys = self.get_partition_keys(current_time, dynamic_partitions_store)
        return keys[-1] if keys else None

    def has_partition_key(
        self,
        partition_key: str,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> bool:
        """True if `partition_key` is one of the keys."""
        return partition_key in self.get_partition_keys(current_time, dynamic_partitions_store)

    def get_num_partitions(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> int:
        """How many partitions there are."""
        return len(self.get_partition_keys(current_time, dynamic_partitions_store))

    def get_partition_keys_in_range(
        self,
        partition_key_range: PartitionKeyRange,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> Sequence[str]:
        """The keys from the range's start to its end, both included."""
        keys = list(self.get_partition_keys(dynamic_partitions_store=dynamic_partitions_store))
        start = _index_of(keys, partition_key_range.start, self)
        end = _index_of(keys, partition_key_range.end, self)
        return keys[start : end + 1]

    def validate_partition_key(
        self,
        partition_key: str,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> None:
        """Raise `UnknownPartitionError` unless `partition_key` is one of the keys."""
        if not self.has_partition_key(partition_key, current_time, dynamic_partitions_store):
            raise UnknownPartitionError(partition_key, str(self))

    def time_window_for_partition_key(self, partition_key: str) -> TimeWindow:
        """The time window of a key; only time-window definitions (or a multi with one) have it."""
        raise TypeError(f"{self} has no time windows")


def _index_of(keys: list[str], key: str, partitions_def: PartitionsDefinition) -> int:
    try:
        return keys.index(key)
    except ValueError:
        raise UnknownPartitionError(key, str(partitions_def)) from None


class StaticPartitionsDefinition(PartitionsDefinition):
    """A fixed list of partition keys: ``StaticPartitionsDefinition(["us", "eu"])``."""

    def __init__(self, partition_keys: Sequence[str]) -> None:
        source = caller_source()
        if isinstance(partition_keys, str) or not all(isinstance(k, str) for k in partition_keys):
            raise DefinitionError(
                f"StaticPartitionsDefinition takes a list of strings, got {partition_keys!r}",
                source=source,
            )
        keys = list(partition_keys)
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise DefinitionError(
                f"Partition keys must be unique. Duplicate instances of partition keys: "
                f"{duplicates}.",
                source=source,
            )
        self._keys = keys
        self._key_set = frozenset(keys)
        self.source = source

    def get_partition_keys(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> Sequence[str]:
        """The keys, in the order given."""
        return list(self._keys)

    def has_partition_key(
        self,
        partition_key: str,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> bool:
        """True if `partition_key` is one of the keys."""
        return partition_key in self._key_set

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StaticPartitionsDefinition) and self._keys == other._keys

    def __hash__(self) -> int:
        return hash(tuple(self._keys))

    def __str__(self) -> str:
        shown = ", ".join(self._keys[:5]) + (", ..." if len(self._keys) > 5 else "")
        return f"Static partitions: [{shown}] ({len(self._keys)} keys)"

    def __repr__(self) -> str:
        return f"StaticPartitionsDefinition({self._keys!r})"


class DynamicPartitionsDefinition(PartitionsDefinition):
    """Partitions whose keys are added and removed while the deployment runs (by sensors, or by
    hand with ``instance.add_dynamic_partitions(name, keys)``); the instance keeps them.
    """

    def __init__(self, name: str) -> None:
        source = caller_source()
        if not isinstance(name, str) or not name:
            raise DefinitionError(
                f"DynamicPartitionsDefinition needs a name, got {name!r}", source=source
            )
        self.name = name
        self.source = source

    def _store(self, store: DynamicPartitionsStore | None) -> DynamicPartitionsStore:
        if store is None:
            raise TypeError(
                f"the keys of DynamicPartitionsDefinition '{self.name}' are kept by the instance: "
                "pass dynamic_partitions_store=context.instance (or an Instance)"
            )
        return store

    def get_partition_keys(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> Sequence[str]:
        """The keys added so far, in the order they were added."""
        return list(self._store(dynamic_partitions_store).get_dynamic_partitions(self.name))

    def has_partition_key(
        self,
        partition_key: str,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> bool:
        """True if `partition_key` was added and not deleted since."""
        store = self._store(dynamic_partitions_store)
        return store.has_dynamic_partition(self.name, partition_key)

    def build_add_request(self, partition_keys: Sequence[str]) -> AddDynamicPartitionsRequest:
        """A request, for ``SensorResult(dynamic_partitions_requests=[...])``, to add keys."""
        return AddDynamicPartitionsRequest(self.name, partition_keys)

    def build_delete_request(self, partition_keys: Sequence[str]) -> DeleteDynamicPartitionsRequest:
        """A request, for ``SensorResult(dynamic_partitions_requests=[...])``, to delete keys."""
        return DeleteDynamicPartitionsRequest(self.name, partition_keys)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DynamicPartitionsDefinition) and self.name == other.name

    def __hash__(self) -> int:
        return hash(("dynamic", self.name))

    def __str__(self) -> str:
        return f"Dynamic partitions '{self.name}'"

    def __repr__(self) -> str:
        return f"DynamicPartitionsDefinition(name={self.name!r})"


class PartitionDimensionKey(NamedTuple):
    """One dimension's part of a `MultiPartitionKey`."""

    dimension_name: str
    partition_key: str


class MultiPartitionKey(str):
    """A key of a `MultiPartitionsDefinition`: a string (``"2024-01-01|us"``, dimensions in name
    order, joined by ``|``) that also knows each dimension's key.
    """

    dimension_keys: list[PartitionDimensionKey]

    def __new__(cls, keys_by_dimension: Mapping[str, str]) -> MultiPartitionKey:
        dims = [PartitionDimensionKey(n, keys_by_dimension[n]) for n in sorted(keys_by_dimension)]
        key = super().__new__(cls, MULTIPARTITION_KEY_DELIMITER.join(d.partition_key for d in dims))
        key.dimension_keys = dims
        return key

    def __getnewargs__(self) -> tuple[dict[str, str]]:  # type: ignore[override]
        # Pickled (by the filesystem IO manager) as its dimensions, not as the joined string.
        return (dict(self.keys_by_dimension),)

    @property
    def keys_by_dimension(self) -> dict[str, str]:
        """Each dimension's key, by dimension name."""
        return {d.dimension_name: d.partition_key for d in self.dimension_keys}


class PartitionDimensionDefinition(NamedTuple):
    """One named dimension of a `MultiPartitionsDefinition`."""

    name: str
    partitions_def: PartitionsDefinition


class MultiPartitionsDefinition(PartitionsDefinition):
    """The cross product of two partitions definitions, e.g. dates by region.

    Dimensions are ordered by name; keys are ``"<first>|<second>"`` and the first dimension
    varies slowest (``2024-01-01|eu, 2024-01-01|us, 2024-01-02|eu, ...``).
    """

    def __init__(self, partitions_defs: Mapping[str, PartitionsDefinition]) -> None:
        source = caller_source()
        if not isinstance(partitions_defs, Mapping) or len(partitions_defs) != 2:
            count = len(partitions_defs) if isinstance(partitions_defs, Mapping) else "no"
            raise DefinitionError(
                "MultiPartitionsDefinition takes exactly two dimensions, as a mapping of "
                f"dimension name to partitions definition; got {count}",
                source=source,
            )
        for name, dim in partitions_defs.items():
            _check_dimension(name, dim, source)
        self._dims = [
            PartitionDimensionDefinition(name, partitions_defs[name])
            for name in sorted(partitions_defs)
        ]
        self.source = source

    @property
    def partitions_defs(self) -> list[PartitionDimensionDefinition]:
        """The dimensions, in name order."""
        return list(self._dims)

    @property
    def partition_dimension_names(self) -> list[str]:
        """The dimension names, sorted."""
        return [d.name for d in self._dims]

    def get_partitions_def_for_dimension(self, dimension_name: str) -> PartitionsDefinition:
        """The partitions definition of one dimension."""
        for dim in self._dims:
            if dim.name == dimension_name:
                return dim.partitions_def
        raise KeyError(
            f"no dimension {dimension_name!r} (dimensions: {self.partition_dimension_names})"
        )

    @property
    def time_window_dimension(self) -> PartitionDimensionDefinition | None:
        """The dimension partitioned by time, if exactly one is."""
        from bakehouse.authoring.time_window_partitions import TimeWindowPartitionsDefinition

        timed = [
            d for d in self._dims if isinstance(d.partitions_def, TimeWindowPartitionsDefinition)
        ]
        return timed[0] if len(timed) == 1 else None

    def get_partition_key_from_str(self, partition_key: str) -> MultiPartitionKey:
        """Parse ``"a|b"`` into a `MultiPartitionKey`; ValueError if it has not two parts."""
        if isinstance(partition_key, MultiPartitionKey):
            return partition_key
        parts = partition_key.split(MULTIPARTITION_KEY_DELIMITER)
        if len(parts) != len(self._dims):
            raise ValueError(
                f"partition key {partition_key!r} is not of the form "
                f"'<{self._dims[0].name}>|<{self._dims[1].name}>'"
            )
        return MultiPartitionKey({d.name: p for d, p in zip(self._dims, parts, strict=True)})

    def get_partition_keys(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> Sequence[MultiPartitionKey]:
        """Every combination, the first dimension (by name) varying slowest."""
        per_dim = [
            d.partitions_def.get_partition_keys(current_time, dynamic_partitions_store)
            for d in self._dims
        ]
        return [
            MultiPartitionKey({d.name: k for d, k in zip(self._dims, combo, strict=True)})
            for combo in itertools.product(*per_dim)
        ]

    def has_partition_key(
        self,
        partition_key: str,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> bool:
        """True if each dimension has its part of `partition_key`."""
        try:
            key = self.get_partition_key_from_str(partition_key)
        except ValueError:
            return False
        return all(
            d.partitions_def.has_partition_key(
                key.keys_by_dimension[d.name], current_time, dynamic_partitions_store
            )
            for d in self._dims
        )

    def get_partition_keys_in_range(
        self,
        partition_key_range: PartitionKeyRange,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> Sequence[str]:
        """The keys of the rectangle the range spans: each dimension from its part of the start
        to its part of the end (as Dagster reads a multi-partition range)."""
        start = self.get_partition_key_from_str(partition_key_range.start).keys_by_dimension
        end = self.get_partition_key_from_str(partition_key_range.end).keys_by_dimension
        per_dim = [
            d.partitions_def.get_partition_keys_in_range(
                PartitionKeyRange(start[d.name], end[d.name]), dynamic_partitions_store
            )
            for d in self._dims
        ]
        return [
            MultiPartitionKey({d.name: k for d, k in zip(self._dims, combo, strict=True)})
            for combo in itertools.product(*per_dim)
        ]

    def time_window_for_partition_key(self, partition_key: str) -> TimeWindow:
        """The time window of the key's time dimension."""
        dim = self.time_window_dimension
        if dim is None:
            raise TypeError(f"{self} has no single time dimension")
        part = self.get_partition_key_from_str(partition_key).keys_by_dimension[dim.name]
        return dim.partitions_def.time_window_for_partition_key(part)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MultiPartitionsDefinition) and self._dims == other._dims

    def __hash__(self) -> int:
        return hash(tuple(self._dims))

    def __str__(self) -> str:
        return "Multi-partitioned by " + ", ".join(
            f"{d.name} ({d.partitions_def})" for d in self._dims
        )

    def __repr__(self) -> str:
        inner = ", ".join(f"{d.name!r}: {d.partitions_def!r}" for d in self._dims)
        return f"MultiPartitionsDefinition({{{inner}}})"


def _check_dimension(name: Any, dim: Any, source: Any) -> None:
    if not isinstance(name, str) or not name:
        raise DefinitionError(f"dimension names must be strings, got {name!r}", source=source)
    if isinstance(dim, MultiPartitionsDefinition) or not isinstance(dim, PartitionsDefinition):
        raise DefinitionError(
            f"dimension {name!r} must be a static, time-window or dynamic partitions definition, "
            f"got {dim!r}",
            source=source,
        )
    if isinstance(dim, StaticPartitionsDefinition):
        bad = [k for k in dim.get_partition_keys() if _INVALID_MULTI_KEY_CHARACTERS & set(k)]
        if bad:
            raise DefinitionError(
                f"dimension {name!r} has keys {bad} holding one of | , [ ] , which a "
                "multi-partitions key cannot hold",
                source=source,
            )

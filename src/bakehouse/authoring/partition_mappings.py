"""Partition mappings: which partitions of an upstream asset one partition of its downstream reads.

Given with ``AssetIn(partition_mapping=...)`` or ``AssetDep(asset, partition_mapping=...)``;
without one, the default is Dagster's (`infer_partition_mapping`): two time-partitioned assets
map by overlapping windows (a weekly partition reads the 7 days of its week), a single dimension
maps to the matching dimension of a multi-partitioned asset, other pairs of partitioned assets
map key to key, and an unpartitioned asset reads every partition of its upstream.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from bakehouse.authoring.partitions import (
    DynamicPartitionsStore,
    MultiPartitionKey,
    MultiPartitionsDefinition,
    PartitionsDefinition,
    StaticPartitionsDefinition,
)
from bakehouse.authoring.time_window_partitions import TimeWindow, TimeWindowPartitionsDefinition
from bakehouse.errors import DefinitionError

if TYPE_CHECKING:
    from bakehouse.authoring.assets import AssetSpec
    from bakehouse.graph.keys import AssetKey


class MappingQuery(NamedTuple):
    """One question to a partition mapping: which upstream keys a downstream key reads."""

    downstream_key: str | None
    downstream_def: PartitionsDefinition | None
    upstream_def: PartitionsDefinition
    current_time: datetime | None
    store: DynamicPartitionsStore | None

    def all_upstream(self) -> list[str]:
        """Every upstream key."""
        return list(self.upstream_def.get_partition_keys(self.current_time, self.store))


class PartitionMapping:
    """Maps a downstream partition to the upstream partitions it depends on."""

    def get_upstream_partition_keys(
        self,
        downstream_partition_key: str | None,
        downstream_partitions_def: PartitionsDefinition | None,
        upstream_partitions_def: PartitionsDefinition,
        *,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        """The upstream keys that `downstream_partition_key` reads (None: unpartitioned)."""
        query = MappingQuery(
            downstream_partition_key,
            downstream_partitions_def,
            upstream_partitions_def,
            current_time,
            dynamic_partitions_store,
        )
        return self.upstream_keys(query)

    def upstream_keys(self, query: MappingQuery) -> list[str]:
        """What subclasses implement: the upstream keys `query.downstream_key` reads."""
        raise NotImplementedError

    def validate_partition_mapping(
        self,
        upstream_partitions_def: PartitionsDefinition,
        downstream_partitions_def: PartitionsDefinition | None,
    ) -> None:
        """Raise ValueError (saying why) if this mapping cannot relate the two definitions."""


@dataclass(frozen=True)
class IdentityPartitionMapping(PartitionMapping):
    """A downstream partition reads the upstream partition with the same key."""

    def upstream_keys(self, query: MappingQuery) -> list[str]:
        """``[key]`` if upstream has it, else nothing."""
        if query.downstream_key is None:
            return query.all_upstream()
        found = query.upstream_def.has_partition_key(
            query.downstream_key, query.current_time, query.store
        )
        return [query.downstream_key] if found else []


@dataclass(frozen=True)
class AllPartitionMapping(PartitionMapping):
    """Every downstream partition reads every upstream partition."""

    def upstream_keys(self, query: MappingQuery) -> list[str]:
        """All upstream keys."""
        return query.all_upstream()


@dataclass(frozen=True)
class LastPartitionMapping(PartitionMapping):
    """Every downstream partition reads the newest upstream partition."""

    def upstream_keys(self, query: MappingQuery) -> list[str]:
        """The last upstream key, if there is one."""
        last = query.upstream_def.get_last_partition_key(query.current_time, query.store)
        return [last] if last is not None else []


@dataclass(frozen=True)
class SpecificPartitionsPartitionMapping(PartitionMapping):
    """Every downstream partition reads the given upstream partitions."""

    partition_keys: Sequence[str]

    def upstream_keys(self, query: MappingQuery) -> list[str]:
        """The keys given."""
        return list(self.partition_keys)


@dataclass(frozen=True)
class StaticPartitionMapping(PartitionMapping):
    """Maps each upstream key to one or more downstream keys, by hand:
    ``StaticPartitionMapping({"raw_us": "us", "raw_all": ["us", "eu"]})``."""

    downstream_partition_keys_by_upstream_partition_key: Mapping[str, str | Collection[str]]

    def _downstream_of(self, upstream_key: str) -> set[str]:
        value = self.downstream_partition_keys_by_upstream_partition_key.get(upstream_key, ())
        return {value} if isinstance(value, str) else set(value)

    def upstream_keys(self, query: MappingQuery) -> list[str]:
        """The upstream keys mapped to the downstream key, in upstream order."""
        return [k for k in query.all_upstream() if query.downstream_key in self._downstream_of(k)]

    def validate_partition_mapping(
        self,
        upstream_partitions_def: PartitionsDefinition,
        downstream_partitions_def: PartitionsDefinition | None,
    ) -> None:
        """Both sides must be static, and every key named must exist."""
        if not isinstance(upstream_partitions_def, StaticPartitionsDefinition) or not isinstance(
            downstream_partitions_def, StaticPartitionsDefinition
        ):
            raise ValueError("StaticPartitionMapping needs static partitions on both sides")
        mapping = self.downstream_partition_keys_by_upstream_partition_key
        unknown_up = sorted(set(mapping) - set(upstream_partitions_def.get_partition_keys()))
        named_down = {k for up in mapping for k in self._downstream_of(up)}
        unknown_down = sorted(named_down - set(downstream_partitions_def.get_partition_keys()))
        if unknown_up or unknown_down:
            raise ValueError(
                f"StaticPartitionMapping names keys that do not exist: upstream {unknown_up}, "
                f"downstream {unknown_down}"
            )


@dataclass(frozen=True)
class TimeWindowPartitionMapping(PartitionMapping):
    """A downstream time window reads the upstream partitions that overlap it, its ends moved
    by `start_offset` and `end_offset` downstream windows: ``start_offset=-1, end_offset=-1``
    reads the previous day of a daily asset."""

    start_offset: int = 0
    end_offset: int = 0
    allow_nonexistent_upstream_partitions: bool = field(default=False)

    def upstream_keys(self, query: MappingQuery) -> list[str]:
        """The upstream keys overlapping the (offset) downstream window that exist now."""
        up, down, key = query.upstream_def, query.downstream_def, query.downstream_key
        if (
            key is None
            or not isinstance(down, TimeWindowPartitionsDefinition)
            or not isinstance(up, TimeWindowPartitionsDefinition)
        ):
            return query.all_upstream()
        first = up.get_first_partition_window(query.current_time)
        last = up.get_last_partition_window(query.current_time)
        if first is None or last is None:
            return []
        window = down.time_window_for_partition_key(key)
        start = down.shift(window.start, self.start_offset)
        end = down.shift(window.end, self.end_offset)
        # As Dagster does, offsets never reach past the ends of the upstream partitions.
        if self.start_offset < 0 and start.timestamp() < first.start.timestamp():
            start = first.start
        if self.end_offset > 0 and end.timestamp() > last.end.timestamp():
            end = last.end
        if start.timestamp() >= end.timestamp():
            return []
        wanted = up.window_bounds(start, end)
        if (
            wanted.start.timestamp() > last.start.timestamp()
            or wanted.end.timestamp() < first.end.timestamp()
        ):
            return []
        clipped = TimeWindow(
            max(wanted.start, first.start, key=lambda d: d.timestamp()),
            min(wanted.end, last.end, key=lambda d: d.timestamp()),
        )
        return list(up.get_partition_keys_in_time_window(clipped))

    def validate_partition_mapping(
        self,
        upstream_partitions_def: PartitionsDefinition,
        downstream_partitions_def: PartitionsDefinition | None,
    ) -> None:
        """Both sides must be time-partitioned, in the same time zone."""
        up, down = upstream_partitions_def, downstream_partitions_def
        if not isinstance(up, TimeWindowPartitionsDefinition) or not isinstance(
            down, TimeWindowPartitionsDefinition
        ):
            raise ValueError(
                "TimeWindowPartitionMapping needs time-window partitions on both sides"
            )
        if up.timezone != down.timezone:
            raise ValueError(f"time zones {up.timezone} and {down.timezone} differ")


@dataclass(frozen=True)
class MultiToSingleDimensionPartitionMapping(PartitionMapping):
    """Relates a multi-partitioned asset and a single-partitioned one through one dimension:
    a partition reads the partitions that share its key in `partition_dimension_name` (found
    by matching definitions when not given)."""

    partition_dimension_name: str | None = None

    def _dimension(self, multi: MultiPartitionsDefinition, single: PartitionsDefinition) -> str:
        if self.partition_dimension_name is not None:
            if self.partition_dimension_name not in multi.partition_dimension_names:
                raise ValueError(
                    f"no dimension {self.partition_dimension_name!r} in {multi} (dimensions: "
                    f"{multi.partition_dimension_names})"
                )
            return self.partition_dimension_name
        matching = [d.name for d in multi.partitions_defs if d.partitions_def == single]
        if len(matching) != 1:
            raise ValueError(
                f"cannot tell which dimension of {multi} matches {single}: give "
                "partition_dimension_name="
            )
        return matching[0]

    def _sides(
        self, up: PartitionsDefinition, down: PartitionsDefinition | None
    ) -> tuple[MultiPartitionsDefinition, PartitionsDefinition, bool]:
        if (
            isinstance(up, MultiPartitionsDefinition)
            and down is not None
            and not isinstance(down, MultiPartitionsDefinition)
        ):
            return up, down, True
        if isinstance(down, MultiPartitionsDefinition) and not isinstance(
            up, MultiPartitionsDefinition
        ):
            return down, up, False
        raise ValueError(
            "MultiToSingleDimensionPartitionMapping needs a multi-partitioned asset on one side "
            "and a single-dimension one on the other"
        )

    def upstream_keys(self, query: MappingQuery) -> list[str]:
        """Upstream keys sharing the downstream key's value in the mapped dimension."""
        key, now, store = query.downstream_key, query.current_time, query.store
        if key is None:
            return query.all_upstream()
        multi, single, upstream_is_multi = self._sides(query.upstream_def, query.downstream_def)
        dim = self._dimension(multi, single)
        if not upstream_is_multi:
            value = multi.get_partition_key_from_str(key).keys_by_dimension[dim]
            return [value] if single.has_partition_key(value, now, store) else []
        if not multi.get_partitions_def_for_dimension(dim).has_partition_key(key, now, store):
            return []
        (other,) = [d for d in multi.partitions_defs if d.name != dim]
        keys = other.partitions_def.get_partition_keys(now, store)
        return [MultiPartitionKey({dim: key, other.name: k}) for k in keys]

    def validate_partition_mapping(
        self,
        upstream_partitions_def: PartitionsDefinition,
        downstream_partitions_def: PartitionsDefinition | None,
    ) -> None:
        """One side multi, the other single, with a dimension to map through."""
        multi, single, _ = self._sides(upstream_partitions_def, downstream_partitions_def)
        self._dimension(multi, single)


def _single_to_multi(up: PartitionsDefinition, down: PartitionsDefinition) -> bool:
    pairs = ((up, down), (down, up))
    for multi, single in pairs:
        if isinstance(multi, MultiPartitionsDefinition) and not isinstance(
            single, MultiPartitionsDefinition
        ):
            return sum(d.partitions_def == single for d in multi.partitions_defs) == 1
    return False


def infer_partition_mapping(
    partition_mapping: PartitionMapping | None,
    downstream_partitions_def: PartitionsDefinition | None,
    upstream_partitions_def: PartitionsDefinition | None,
) -> PartitionMapping:
    """The mapping given, else Dagster's default for the two definitions (see module doc)."""
    if partition_mapping is not None:
        return partition_mapping
    up, down = upstream_partitions_def, downstream_partitions_def
    if up is None or down is None:
        return AllPartitionMapping()
    if _single_to_multi(up, down):
        return MultiToSingleDimensionPartitionMapping()
    if isinstance(up, TimeWindowPartitionsDefinition) and isinstance(
        down, TimeWindowPartitionsDefinition
    ):
        return TimeWindowPartitionMapping()
    return IdentityPartitionMapping()


def upstream_partition_keys(
    partition_mapping: PartitionMapping | None,
    downstream_partition_key: str | None,
    downstream_partitions_def: PartitionsDefinition | None,
    upstream_partitions_def: PartitionsDefinition | None,
    *,
    current_time: datetime | None = None,
    dynamic_partitions_store: DynamicPartitionsStore | None = None,
) -> list[str] | None:
    """The upstream keys a downstream partition (or unpartitioned asset, with None) reads;
    None when the upstream asset is not partitioned (it has one value)."""
    if upstream_partitions_def is None:
        return None
    mapping = infer_partition_mapping(
        partition_mapping, downstream_partitions_def, upstream_partitions_def
    )
    return mapping.get_upstream_partition_keys(
        downstream_partition_key,
        downstream_partitions_def,
        upstream_partitions_def,
        current_time=current_time,
        dynamic_partitions_store=dynamic_partitions_store,
    )


def check_partition_mappings(specs: Mapping[AssetKey, AssetSpec]) -> None:
    """Raise a `DefinitionError` at the downstream asset's line for a mapping that cannot work."""
    for key, spec in specs.items():
        for dep, mapping in spec.partition_mappings.items():
            upstream = specs.get(dep)
            up_def = upstream.partitions_def if upstream is not None else None
            if up_def is None:
                continue
            chosen = infer_partition_mapping(mapping, spec.partitions_def, up_def)
            try:
                chosen.validate_partition_mapping(up_def, spec.partitions_def)
            except ValueError as exc:
                raise DefinitionError(
                    f"asset '{key}' reads '{dep}' through {type(chosen).__name__}: {exc}",
                    source=spec.source,
                ) from None
        for dep in spec.deps:
            upstream = specs.get(dep)
            if dep in spec.partition_mappings or upstream is None:
                continue
            up_def, down_def = upstream.partitions_def, spec.partitions_def
            if isinstance(up_def, TimeWindowPartitionsDefinition) and isinstance(
                down_def, TimeWindowPartitionsDefinition
            ):
                try:
                    TimeWindowPartitionMapping().validate_partition_mapping(up_def, down_def)
                except ValueError as exc:
                    raise DefinitionError(
                        f"asset '{key}' depends on '{dep}': {exc}; give a partition_mapping",
                        source=spec.source,
                    ) from None

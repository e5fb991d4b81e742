"""The contexts user code receives: asset and resource contexts, and the run logger."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bakehouse.authoring.metadata import metadata_values
from bakehouse.errors import DagsterUnknownResourceError
from bakehouse.graph.keys import AssetKey, CoercibleToAssetKey, coerce_key

if TYPE_CHECKING:
    from bakehouse.authoring.check_spec import AssetCheckKey
    from bakehouse.authoring.partitions import PartitionKeyRange, PartitionsDefinition
    from bakehouse.authoring.time_window_partitions import TimeWindow

_python_logger = logging.getLogger("bakehouse.user")

LogSink = Callable[[str, str], None]
"""Receives (level name, message) for each line user code logs."""


class RunLogger:
    """``context.log``: each call becomes a LOG event in the run's event log."""

    def __init__(self, sink: LogSink | None = None, prefix: str = "") -> None:
        self._sink = sink
        self._prefix = prefix

    def _log(self, level: int, msg: object, *args: Any) -> None:
        text = str(msg) % args if args else str(msg)
        name = logging.getLevelName(level)
        if self._sink is not None:
            self._sink(name, text)
        _python_logger.log(level, "%s%s", self._prefix, text)

    def debug(self, msg: object, *args: Any) -> None:
        """Log at DEBUG."""
        self._log(logging.DEBUG, msg, *args)

    def info(self, msg: object, *args: Any) -> None:
        """Log at INFO."""
        self._log(logging.INFO, msg, *args)

    def warning(self, msg: object, *args: Any) -> None:
        """Log at WARNING."""
        self._log(logging.WARNING, msg, *args)

    warn = warning

    def error(self, msg: object, *args: Any) -> None:
        """Log at ERROR."""
        self._log(logging.ERROR, msg, *args)

    def exception(self, msg: object, *args: Any) -> None:
        """Log at ERROR with the current exception's traceback."""
        import traceback

        self._log(logging.ERROR, f"{msg}\n{traceback.format_exc()}".rstrip(), *args)

    def critical(self, msg: object, *args: Any) -> None:
        """Log at CRITICAL."""
        self._log(logging.CRITICAL, msg, *args)


class Resources:
    """``context.resources``: resources by key, as attributes."""

    def __init__(self, resources: Mapping[str, Any]) -> None:
        self._resources = dict(resources)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._resources[name]
        except KeyError:
            known = ", ".join(sorted(self._resources)) or "none"
            raise DagsterUnknownResourceError(
                name,
                f"no resource '{name}' is available here (resources: {known}); declare it as a "
                "typed parameter or in required_resource_keys",
            ) from None

    def __contains__(self, name: str) -> bool:
        return name in self._resources

    def original_resource_dict(self) -> dict[str, Any]:
        """The resources as a plain dict."""
        return dict(self._resources)


class AssetExecutionContext:
    """What an asset function receives as ``context``: run id, keys, logger, resources, config."""

    def __init__(
        self,
        *,
        run_id: str,
        asset_keys: list[AssetKey],
        step_key: str,
        resources: Mapping[str, Any] | None = None,
        op_config: Any = None,
        log: RunLogger | None = None,
        instance: Any = None,
        run_tags: Mapping[str, str] | None = None,
        partition_key: str | None = None,
        partitions_def: PartitionsDefinition | None = None,
        partition_range_keys: Sequence[str] | None = None,
        check_keys: Iterable[AssetCheckKey] = (),
        retry_number: int = 0,
    ) -> None:
        if partition_key is not None and partition_range_keys is not None:
            raise ValueError("a context has a partition_key or partition_range_keys, not both")
        if partition_range_keys is not None and not partition_range_keys:
            raise ValueError("partition_range_keys is empty")
        self.run_id = run_id
        self.selected_asset_keys = set(asset_keys)
        # The checks this step evaluates (of a subsettable step: those its run selected).
        self.selected_asset_check_keys = set(check_keys)
        self.assets_keys = list(asset_keys)
        self.step_key = step_key
        self.op_name = step_key
        self.resources = Resources(resources or {})
        self.op_config = op_config
        self.log = log or RunLogger()
        self.instance = instance
        self.run_tags = dict(run_tags or {})
        # How many attempts of this step failed before this one (0 on the first).
        self.retry_number = retry_number
        self._partition_key = partition_key
        # Every key, in order, of the range a run of several partitions materializes at once.
        self._range_keys = list(partition_range_keys) if partition_range_keys is not None else None
        self._partitions_def = partitions_def
        # (output_name, asset_key, metadata) in the order user code added them.
        self._added_metadata: list[tuple[str | None, AssetKey | None, dict[str, Any]]] = []

    @property
    def asset_key(self) -> AssetKey:
        """The key being materialized (single-asset steps)."""
        if len(self.assets_keys) != 1:
            raise AttributeError(
                f"this step materializes {len(self.assets_keys)} assets; use selected_asset_keys"
            )
        return self.assets_keys[0]

    # -- partitions ---------------------------------------------------------------------------

    @property
    def has_partition_key(self) -> bool:
        """True when the run materializes one partition (not a range; see
        `has_partition_key_range`)."""
        return self._partition_key is not None

    @property
    def has_partition_key_range(self) -> bool:
        """True when the run materializes a range of partitions in one execution (a single-run
        backfill), even a range of one key."""
        return self._range_keys is not None

    def _parse(self, key: str) -> str:
        parse = getattr(self._partitions_def, "get_partition_key_from_str", None)
        return parse(key) if callable(parse) else key

    @property
    def partition_key(self) -> str:
        """The partition this step materializes (a `MultiPartitionKey` for multi-partitions).

        A run of a range has no one key: this raises unless the range holds exactly one.
        """
        if self._range_keys is not None:
            if len(self._range_keys) == 1:
                return self._parse(self._range_keys[0])
            raise AttributeError(
                "Cannot access partition_key for a partitioned run with a range of partitions "
                f"({self._range_keys[0]}...{self._range_keys[-1]}, {len(self._range_keys)} "
                "keys). Use partition_key_range or partition_keys instead."
            )
        if self._partition_key is None:
            raise AttributeError("Cannot access partition_key for a non-partitioned run")
        return self._parse(self._partition_key)

    @property
    def partition_keys(self) -> list[str]:
        """The partitions this step materializes, in the definition's order."""
        if self._range_keys is not None:
            return [self._parse(k) for k in self._range_keys]
        return [self.partition_key]

    @property
    def partition_key_range(self) -> PartitionKeyRange:
        """The range of partitions this step materializes (one partition: start == end)."""
        from bakehouse.authoring.partitions import PartitionKeyRange

        if self._range_keys is not None:
            return PartitionKeyRange(self._range_keys[0], self._range_keys[-1])
        return PartitionKeyRange(self.partition_key, self.partition_key)

    @property
    def partition_time_window(self) -> TimeWindow:
        """The time window of the partition (of its time dimension, for multi-partitions); for
        a range, from the start of its first partition to the end of its last."""
        first, last = self.partition_key_range
        if self._partitions_def is None:
            raise AttributeError(
                "partition_time_window needs the asset's partitions_def; this context has only "
                f"the key {first!r}"
            )
        try:
            start = self._partitions_def.time_window_for_partition_key(self._parse(first))
            if last == first:
                return start
            end = self._partitions_def.time_window_for_partition_key(self._parse(last))
        except TypeError as exc:
            raise AttributeError(f"no partition_time_window: {exc}") from None
        from bakehouse.authoring.time_window_partitions import TimeWindow

        return TimeWindow(start.start, end.end)

    def asset_partition_key_for_output(self, output_name: str = "result") -> str:
        """The partition an output materializes (every output of a step shares it)."""
        return self.partition_key

    def asset_partition_keys_for_output(self, output_name: str = "result") -> list[str]:
        """The partitions an output materializes."""
        return self.partition_keys

    def asset_partition_key_range_for_output(
        self, output_name: str = "result"
    ) -> PartitionKeyRange:
        """The range of partitions an output materializes."""
        return self.partition_key_range

    def asset_partitions_time_window_for_output(self, output_name: str = "result") -> TimeWindow:
        """The time window of the partition an output materializes."""
        return self.partition_time_window

    def asset_partitions_def_for_output(self, output_name: str = "result") -> PartitionsDefinition:
        """The partitions definition of the step's assets."""
        if self._partitions_def is None:
            raise AttributeError("this asset is not partitioned")
        return self._partitions_def

    def bind_partitions_def(self, partitions_def: PartitionsDefinition | None) -> None:
        """Give a context built by hand the partitions of the asset it is passed to."""
        if self._partitions_def is None:
            self._partitions_def = partitions_def

    def add_output_metadata(
        self,
        metadata: Mapping[str, Any],
        output_name: str | None = None,
        asset_key: CoercibleToAssetKey | None = None,
    ) -> None:
        """Attach `metadata` to this step's materialization (name the output or asset key in a
        multi-asset)."""
        key = coerce_key(asset_key) if asset_key is not None else None
        self._added_metadata.append((output_name, key, metadata_values(metadata)))

    def added_metadata_for(self, key: AssetKey, output_name: str) -> dict[str, Any]:
        """Metadata user code added for `key` (used when recording the materialization)."""
        merged: dict[str, Any] = {}
        single = len(self.assets_keys) == 1
        for name, target, metadata in self._added_metadata:
            unnamed = name is None and target is None
            if (unnamed and single) or name == output_name or target == key:
                merged.update(metadata)
        return merged


class InitResourceContext:
    """What a resource's setup and teardown receive (and a `@resource` function)."""

    def __init__(
        self,
        *,
        resource_key: str,
        run_id: str | None,
        log: RunLogger | None = None,
        instance: Any = None,
        resource_config: Any = None,
        resources: Mapping[str, Any] | None = None,
    ) -> None:
        self.resource_key = resource_key
        self.run_id = run_id
        self.log = log or RunLogger()
        self.instance = instance
        # For function-style resources (`@resource`): their config, and the resources they
        # named in required_resource_keys.
        self.resource_config = resource_config
        self.resources = Resources(resources or {})


def build_asset_context(
    *,
    resources: Mapping[str, Any] | None = None,
    asset_config: Any = None,
    run_id: str = "direct-invocation",
    asset_key: CoercibleToAssetKey = "direct_invocation",
    partition_key: str | None = None,
    instance: Any = None,
) -> AssetExecutionContext:
    """A context for calling an asset function directly in a unit test, without an instance.

    Configurable resources get their `EnvVar` fields read now, as a run would.
    """
    from bakehouse.authoring.build_contexts import direct_resources

    key = coerce_key(asset_key)
    ready = direct_resources(resources, instance)
    return AssetExecutionContext(
        run_id=run_id,
        asset_keys=[key],
        step_key=key.to_python_identifier(),
        resources=ready,
        op_config=asset_config,
        partition_key=partition_key,
        instance=instance,
    )


# Dagster's name for the context an op receives; here ops and assets share one context.
OpExecutionContext = AssetExecutionContext

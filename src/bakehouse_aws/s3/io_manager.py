"""`S3PickleIOManager`: pickles each asset value to an S3 object, one per partition, under
``s3://<s3_bucket>/<s3_prefix>/<key parts>[/<partition>]`` (the filesystem IO manager's layout).

It talks to S3 through a boto3 client, as Dagster's does, so a client from `S3Resource` (or the
function-style `s3_resource`) is all it needs.
"""

from __future__ import annotations

import pickle
from typing import Any

from pydantic import Field, PrivateAttr

from bakehouse.authoring.context import InitResourceContext
from bakehouse.authoring.metadata import MetadataValue
from bakehouse.authoring.resource_definition import IOManagerDefinition
from bakehouse.execution.configurable_io_manager import ConfigurableIOManager
from bakehouse.execution.io_managers import (
    InputContext,
    IOManager,
    OutputContext,
    load_partitions,
    missing_value,
    store_partitions,
)
from bakehouse.graph.keys import AssetKey
from bakehouse_aws.s3.resources import S3Resource

DEFAULT_PREFIX = "dagster"


class PickledObjectS3IOManager(IOManager):
    """Pickles values to objects of `s3_bucket` under `s3_prefix`, through the boto3 client
    `s3_session`."""

    def __init__(self, s3_bucket: str, s3_session: Any, s3_prefix: str | None = None) -> None:
        if not s3_bucket:
            raise ValueError("PickledObjectS3IOManager needs an s3_bucket")
        self.bucket = s3_bucket
        self.s3 = s3_session
        self.prefix = (DEFAULT_PREFIX if s3_prefix is None else s3_prefix).strip("/")

    def object_key(self, key: AssetKey, partition_key: str | None = None) -> str:
        """The S3 key of asset `key` (or of one of its partitions)."""
        parts = [*([self.prefix] if self.prefix else []), *key.path]
        if partition_key is not None:
            # A multi-partition key "2024-01-01|us" is stored as 2024-01-01/us, as on disk.
            dims = partition_key.split("|")
            if any(p in ("", ".", "..") or "/" in p for p in dims):
                raise ValueError(f"partition key {partition_key!r} cannot name an S3 object")
            parts.extend(dims)
        return "/".join(parts)

    def uri(self, object_key: str) -> str:
        """``s3://bucket/key`` of an object."""
        return f"s3://{self.bucket}/{object_key}"

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        """Put the pickled value (one object per partition for a range's dict)."""
        written: list[str] = []

        def store_one(partition: str | None, value: Any) -> None:
            key = self.object_key(context.asset_key, partition)
            body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)
            written.append(key)

        store_partitions(context, obj, store_one)
        shown = written[0] if len(written) == 1 else self.object_key(context.asset_key)
        context.add_output_metadata({"uri": MetadataValue.path(self.uri(shown))})

    def load_input(self, context: InputContext) -> Any:
        """Get and unpickle the upstream value (a dict by partition key for several)."""

        def load_one(partition: str | None) -> Any:
            key = self.object_key(context.asset_key, partition)
            try:
                response = self.s3.get_object(Bucket=self.bucket, Key=key)
            except self.s3.exceptions.NoSuchKey:
                raise missing_value(
                    context.asset_key, f"expected at {self.uri(key)}", partition
                ) from None
            return pickle.loads(response["Body"].read())

        return load_partitions(context, load_one)


class S3PickleIOManager(ConfigurableIOManager):
    """Pickles asset values to S3: ``S3PickleIOManager(s3_resource=S3Resource(...),
    s3_bucket="my-bucket", s3_prefix="runs")``."""

    s3_resource: S3Resource = Field(description="The S3 connection to write through.")
    s3_bucket: str = Field(description="The bucket values are stored in.")
    s3_prefix: str = Field(default=DEFAULT_PREFIX, description="The key prefix in the bucket.")

    _inner: PickledObjectS3IOManager | None = PrivateAttr(default=None)

    def _manager(self) -> PickledObjectS3IOManager:
        # One boto3 client per IO manager object: clients are thread-safe and slow to build.
        if self._inner is None:
            self._inner = PickledObjectS3IOManager(
                self.s3_bucket, self.s3_resource.get_client(), self.s3_prefix
            )
        return self._inner

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        """Put the pickled value in S3."""
        self._manager().handle_output(context, obj)

    def load_input(self, context: InputContext) -> Any:
        """Get the pickled upstream value from S3."""
        return self._manager().load_input(context)


def _s3_pickle_io_manager(context: InitResourceContext) -> PickledObjectS3IOManager:
    config = dict(context.resource_config or {})
    unknown = sorted(set(config) - {"s3_bucket", "s3_prefix"})
    if unknown or not config.get("s3_bucket"):
        raise ValueError(
            f"resource '{context.resource_key}': config needs s3_bucket (and may give "
            f"s3_prefix){'; unknown fields ' + str(unknown) if unknown else ''}"
        )
    s3 = getattr(context.resources, "s3", None)
    if s3 is None:
        raise ValueError(f"resource '{context.resource_key}' needs an 's3' resource")
    client = s3.get_client() if isinstance(s3, S3Resource) else s3
    return PickledObjectS3IOManager(config["s3_bucket"], client, config.get("s3_prefix"))


s3_pickle_io_manager = IOManagerDefinition(
    _s3_pickle_io_manager,
    description="Pickles values to S3; config: s3_bucket, s3_prefix (default 'dagster').",
    required_resource_keys={"s3"},
)
"""Dagster's function-style S3 pickle IO manager (needs an ``s3`` resource)."""

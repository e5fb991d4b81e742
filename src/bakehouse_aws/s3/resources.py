"""`S3Resource`: the settings of an S3 connection, handing out boto3 clients (and the same
settings as fsspec storage options, for IO managers that write ``s3://`` URLs)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from bakehouse.authoring.context import InitResourceContext
from bakehouse.authoring.resource_definition import ResourceDefinition
from bakehouse.authoring.resources import ConfigurableResource


class S3Resource(ConfigurableResource):
    """Access to Amazon S3 (or any S3-compatible store named by `endpoint_url`).

    ``s3.get_client().list_objects_v2(Bucket=..., Prefix=...)``; credentials left unset come
    from boto3's usual chain (environment, profile, instance role).
    """

    region_name: str | None = Field(default=None, description="AWS region of the session.")
    endpoint_url: str | None = Field(
        default=None, description="Endpoint of an S3-compatible store (MinIO, a local server)."
    )
    max_attempts: int = Field(default=5, description="Attempts per request, the first included.")
    profile_name: str | None = Field(default=None, description="Profile of the AWS config.")
    use_unsigned_session: bool = Field(
        default=False, description="Send unsigned requests (public buckets)."
    )
    use_ssl: bool = Field(default=True, description="Whether to use SSL.")
    verify: bool | str | None = Field(
        default=None, description="Verify SSL certificates (or the CA bundle to verify with)."
    )
    aws_access_key_id: str | None = Field(default=None, description="AWS access key id.")
    aws_secret_access_key: str | None = Field(default=None, description="AWS secret access key.")
    aws_session_token: str | None = Field(default=None, description="AWS session token.")

    def get_client(self) -> Any:
        """A boto3 S3 client with these settings."""
        return make_s3_client(self)

    def storage_options(self) -> dict[str, Any]:
        """These settings as s3fs options: ``FilesystemIOManager(base_dir="s3://bucket/x",
        storage_options=s3.storage_options())`` writes where `get_client()` reads."""
        options: dict[str, Any] = {}
        if self.aws_access_key_id is not None:
            options["key"] = self.aws_access_key_id
        if self.aws_secret_access_key is not None:
            options["secret"] = self.aws_secret_access_key
        if self.aws_session_token is not None:
            options["token"] = self.aws_session_token
        if self.profile_name is not None:
            options["profile"] = self.profile_name
        if self.use_unsigned_session:
            options["anon"] = True
        if not self.use_ssl:
            options["use_ssl"] = False
        if self.endpoint_url is not None:
            options["endpoint_url"] = self.endpoint_url
        client_kwargs: dict[str, Any] = {}
        if self.region_name is not None:
            client_kwargs["region_name"] = self.region_name
        if self.verify is not None:
            client_kwargs["verify"] = self.verify
        if client_kwargs:
            options["client_kwargs"] = client_kwargs
        return options


def make_s3_client(settings: S3Resource) -> Any:
    """A boto3 S3 client for `settings`."""
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    session = boto3.session.Session(
        profile_name=settings.profile_name,
        aws_access_key_id=settings.aws_access_key_id,
        aws_secret_access_key=settings.aws_secret_access_key,
        aws_session_token=settings.aws_session_token,
    )
    config = Config(
        retries={"max_attempts": settings.max_attempts, "mode": "standard"},
        **({"signature_version": UNSIGNED} if settings.use_unsigned_session else {}),
    )
    return session.client(
        "s3",
        region_name=settings.region_name,
        endpoint_url=settings.endpoint_url,
        use_ssl=settings.use_ssl,
        verify=settings.verify,
        config=config,
    )


def _s3_client(context: InitResourceContext) -> Any:
    config = dict(context.resource_config or {})
    unknown = sorted(set(config) - set(S3Resource.model_fields))
    if unknown:
        raise ValueError(
            f"resource '{context.resource_key}': unknown s3 config fields {unknown} "
            f"(fields: {sorted(S3Resource.model_fields)})"
        )
    return S3Resource(**config).get_client()


s3_resource = ResourceDefinition(
    _s3_client,
    description="A boto3 S3 client; config takes the fields of S3Resource (all optional).",
)
"""Dagster's function-style S3 resource: its value is a boto3 S3 client."""

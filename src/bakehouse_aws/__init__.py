"""AWS for bakehouse, under the names of Dagster's ``dagster_aws`` (``pip install
'bakehouse[aws]'``). `bakehouse_aws.s3` holds the S3 resource and the S3 pickle IO manager."""

__all__: list[str] = []

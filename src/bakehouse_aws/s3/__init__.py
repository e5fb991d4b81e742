"""Amazon S3 for bakehouse, under the names of Dagster's ``dagster_aws.s3``.

`S3Resource` (``get_client()``: a boto3 S3 client) and `S3PickleIOManager` (pickles each asset
value to ``s3://<s3_bucket>/<s3_prefix>/<key parts>[/<partition>]``), with their older
function-style spellings `s3_resource` and `s3_pickle_io_manager`. boto3 is imported when the
first client is made, not here.
"""

from bakehouse_aws.s3.io_manager import (
    PickledObjectS3IOManager as PickledObjectS3IOManager,
    S3PickleIOManager as S3PickleIOManager,
    s3_pickle_io_manager as s3_pickle_io_manager,
)
from bakehouse_aws.s3.resources import S3Resource as S3Resource, s3_resource as s3_resource

__all__ = [
    "PickledObjectS3IOManager",
    "S3PickleIOManager",
    "S3Resource",
    "s3_pickle_io_manager",
    "s3_resource",
]

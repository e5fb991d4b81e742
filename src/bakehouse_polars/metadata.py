"""Row count, column schema and preview of a polars DataFrame (see `table_metadata`)."""

from __future__ import annotations

from typing import Any

from bakehouse.authoring.metadata import MetadataValue
from bakehouse.authoring.table_metadata import PREVIEW_ROWS, frame_metadata


def polars_frame_metadata(frame: Any, *, partitioned: bool = False) -> dict[str, MetadataValue]:
    """The metadata of `frame`: its rows, its columns with polars' type names, its head."""
    return frame_metadata(
        row_count=int(frame.height),
        columns=[(name, str(dtype)) for name, dtype in frame.schema.items()],
        first_rows=frame.head(PREVIEW_ROWS).to_dicts(),
        partitioned=partitioned,
    )

"""Row count, column schema and preview of a pandas DataFrame (see `table_metadata`)."""

from __future__ import annotations

from typing import Any

from bakehouse.authoring.metadata import MetadataValue
from bakehouse.authoring.table_metadata import PREVIEW_ROWS, frame_metadata


def pandas_frame_metadata(frame: Any, *, partitioned: bool = False) -> dict[str, MetadataValue]:
    """The metadata of `frame`: its rows, its columns with pandas' dtype names, its head."""
    head = frame.head(PREVIEW_ROWS)
    # astype(object) keeps each cell's own value (Timestamp, pd.NA, NaN) for the preview.
    rows = head.astype(object).to_dict(orient="records")
    return frame_metadata(
        row_count=len(frame),
        columns=[(str(name), str(dtype)) for name, dtype in frame.dtypes.items()],
        first_rows=rows,
        partitioned=partitioned,
    )

"""The bounds on the tags a caller gives a run or a backfill, checked by every entry point.

Dagster documents its tag limits: a key is an optional prefix and a name separated by ``/``,
each at most 63 characters, and a value at most 63 characters. Dagster sets no count; bakehouse
allows at most `MAX_TAGS`, so a request cannot store an unbounded number of rows' worth of tags.
The tags bakehouse sets itself (who launched a run, its schedule, its run key) are not the
caller's and are not checked here. Messages quote at most `QUOTE_LIMIT` characters of a tag.
"""

from __future__ import annotations

from collections.abc import Mapping

from bakehouse.graph.selection import quoted

__all__ = ["MAX_TAGS", "MAX_TAG_SEGMENT", "MAX_TAG_VALUE", "tag_problem"]

MAX_TAGS = 100
"""The most tags a caller may give one run or backfill."""
MAX_TAG_SEGMENT = 63
"""The longest prefix or name of a tag key (Dagster's limit)."""
MAX_TAG_VALUE = 63
"""The longest tag value (Dagster's limit)."""


def tag_problem(tags: Mapping[str, str]) -> str | None:
    """What is wrong with caller-given `tags` (the first tag at fault), or None if they fit."""
    if len(tags) > MAX_TAGS:
        return f"{len(tags)} tags given; at most {MAX_TAGS} are allowed"
    for key, value in tags.items():
        if not isinstance(key, str) or not isinstance(value, str):
            return f"tag {quoted(str(key))}: keys and values are strings"
        prefix, _, name = key.rpartition("/")
        if not name or any(len(part) > MAX_TAG_SEGMENT for part in (prefix, name)):
            return (
                f"tag key {quoted(key)}: a key is an optional prefix and a name separated by "
                f"'/', each 1 to {MAX_TAG_SEGMENT} characters"
            )
        if len(value) > MAX_TAG_VALUE:
            return (
                f"tag {quoted(key)}: a value is at most {MAX_TAG_VALUE} characters, "
                f"got {len(value)}"
            )
    return None

"""The one place where a row that cannot be decoded becomes a `CorruptRecord` (in a list) or a
`CorruptRecordError` (for one row asked for by its id).

Every query that decodes stored bodies goes through `read_or_mark` or `read_or_raise`, whatever
the codec looks like, so a bad body never escapes as an arbitrary exception and never takes a
whole list down with it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TypeVar

from bakehouse.errors import CorruptRecordError, StorageError
from bakehouse.storage.records import CorruptRecord

T = TypeVar("T")

# Bodies are user-influenced text: a reason quotes at most this much of what the decoder said.
REASON_LIMIT = 300

_log = logging.getLogger(__name__)

# What decoding a bad body can raise: the codec's StorageError, and what a body that parses but
# has the wrong shape makes the record constructors or the JSON parser raise.
_DECODE_ERRORS = (StorageError, TypeError, ValueError, KeyError, AttributeError, RecursionError)


def reason_of(exc: BaseException) -> str:
    """A short, one-line account of why decoding failed."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if len(text) > REASON_LIMIT:
        text = text[: REASON_LIMIT - 1] + "…"
    return text


def read_or_mark(
    table: str, key: object, decode: Callable[[], T], *, created_at: float | None = None
) -> T | CorruptRecord:
    """`decode()`, or a `CorruptRecord` for row `key` of `table` if the row is not a record."""
    try:
        return decode()
    except _DECODE_ERRORS as exc:
        return CorruptRecord(
            table=table, key=str(key), reason=reason_of(exc), created_at=created_at
        )


def read_or_raise(table: str, key: object, decode: Callable[[], T]) -> T:
    """`decode()`, raising `CorruptRecordError` naming row `key` of `table` if it fails."""
    marked = read_or_mark(table, key, decode)
    if isinstance(marked, CorruptRecord):
        raise CorruptRecordError(marked.table, marked.key, marked.reason)
    return marked


def skip_corrupt(items: Iterable[T | CorruptRecord]) -> list[T]:
    """The records of `items`; each corrupt row is logged once here and left out."""
    kept: list[T] = []
    for item in items:
        if isinstance(item, CorruptRecord):
            _log.warning("skipping corrupt row in %s (%s): %s", item.table, item.key, item.reason)
        else:
            kept.append(item)
    return kept

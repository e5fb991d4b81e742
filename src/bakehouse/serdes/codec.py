"""The codec: `Record` types to JSON text and back, with decode errors that name what failed.

Decoding follows the protocol's rule for data written by another version: unknown fields are
ignored and missing fields take their defaults, so a record gains fields without breaking old
JSON; a kind of a discriminated union is told by its tag (a `Literal` field on the wire).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec

from bakehouse.errors import DecodeError

T = TypeVar("T")
R = TypeVar("R", bound="Record")


class Record(msgspec.Struct, frozen=True, kw_only=True):
    """Base of every type that is serialized: frozen, keyword-only, compared by value.

    Subclasses pass ``frozen=True, kw_only=True`` again (msgspec applies kw_only per class, and
    type checkers read frozen per class) and, for one kind of
    a union, ``tag_field=...`` and ``tag=...``; ``forbid_unknown_fields=True`` suits request
    bodies, whose senders should hear about a misspelt field.
    """

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        """Let pydantic (FastAPI) validate, serialize and describe this type."""
        from bakehouse.serdes.pydantic_bridge import record_core_schema

        return record_core_schema(cls, handler)


def _plain(value: Any) -> Any:
    """Subclasses of the JSON types (a `MultiPartitionKey` is a str) as their base type, as
    `json.dumps` writes them; anything else is not JSON."""
    for base in (str, int, float):
        if isinstance(value, base):
            return base(value)
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    raise TypeError(f"Encoding objects of type {type(value).__name__} is unsupported")


_ENCODER = msgspec.json.Encoder(enc_hook=_plain)


def encode(value: Any) -> str:
    """Compact JSON text for a record, or any JSON-ready value holding records."""
    return _ENCODER.encode(value).decode()


@functools.cache
def _decoder(type_: Any) -> msgspec.json.Decoder[Any]:
    # Built once per type: a decoder compiles the type's fields on creation.
    return msgspec.json.Decoder(type_)


def decode(text: str | bytes, type_: type[T], *, what: str) -> T:
    """The `type_` written as `text`; raises `DecodeError` naming `what` (e.g. "run record
    'abc'") when the text is not JSON or not that type."""
    try:
        type_key: Any = type_  # a class is hashable, whatever its type says
        decoded: T = _decoder(type_key).decode(text)
        return decoded
    except (msgspec.DecodeError, TypeError, ValueError) as exc:
        raise DecodeError(what, str(exc)) from None


def to_builtins(value: Any) -> Any:
    """`value` as JSON-ready dicts, lists and scalars (enums as their values)."""
    return msgspec.to_builtins(value, enc_hook=_plain)


def fields_of(record: Any) -> dict[str, Any]:
    """The fields of `record` by name, values as they are (not converted)."""
    return msgspec.structs.asdict(record)


def replace(record: R, **changes: Any) -> R:
    """A copy of `record` with `changes` (the fields are not re-validated)."""
    return msgspec.structs.replace(record, **changes)

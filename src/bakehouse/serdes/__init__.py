"""One serialization mechanism: typed records as JSON, for snapshots, stored bodies and the API.

A type is declared once, as a `Record` (a frozen, keyword-only msgspec Struct), and `encode` /
`decode` turn it into JSON and back; the web API uses the same classes (`pydantic_bridge`). Only
msgspec is imported here, so the code server and the CLI pay no pydantic start-up.
"""

from __future__ import annotations

from bakehouse.serdes.codec import Record, decode, encode, fields_of, replace, to_builtins

__all__ = ["Record", "decode", "encode", "fields_of", "replace", "to_builtins"]

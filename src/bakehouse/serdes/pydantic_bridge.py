"""Lets pydantic, and so FastAPI, take a `Record` as a request or response type.

Each record becomes a pydantic core schema built from its own fields (with the union tag as a
`Literal`), so request bodies are validated with pydantic's error locations, responses are
serialized with msgspec, and the OpenAPI schema names the record once. Host side only: it
imports pydantic, which the code server never needs.
"""

from __future__ import annotations

from typing import Any

import msgspec
from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema as cs

from bakehouse.serdes.codec import to_builtins


def _described(field_type: Any) -> dict[str, Any] | None:
    """The field's ``msgspec.Meta(description=...)``, for its JSON schema."""
    for meta in getattr(field_type, "__metadata__", ()):
        if isinstance(meta, msgspec.Meta) and meta.description:
            return {"pydantic_js_updates": {"description": meta.description}}
    return None


# Records whose schema is being built: a record that holds itself (a tree) refers to its own
# schema by reference instead of building it again forever.
_BUILDING: set[type] = set()


def record_core_schema(cls: type[msgspec.Struct], handler: GetCoreSchemaHandler) -> Any:
    """The pydantic core schema of the record type `cls`."""
    ref = f"{cls.__module__}.{cls.__qualname__}"
    if cls in _BUILDING:
        return cs.definition_reference_schema(ref)
    _BUILDING.add(cls)
    try:
        return _record_core_schema(cls, handler, ref)
    finally:
        _BUILDING.discard(cls)


def _record_core_schema(cls: type[msgspec.Struct], handler: GetCoreSchemaHandler, ref: str) -> Any:
    config = cls.__struct_config__
    tag_field = config.tag_field
    fields: dict[str, cs.TypedDictField] = {}
    if tag_field is not None:
        # Optional on input, since the declared type already says which kind it is.
        fields[tag_field] = cs.typed_dict_field(cs.literal_schema([config.tag]), required=False)
    for field in msgspec.structs.fields(cls):
        fields[field.encode_name] = cs.typed_dict_field(
            handler.generate_schema(field.type),
            required=field.required,
            metadata=_described(field.type),
        )
    shape = cs.typed_dict_schema(
        fields,
        cls=cls,
        extra_behavior="forbid" if config.forbid_unknown_fields else "ignore",
    )

    def build(data: dict[str, Any]) -> Any:
        data.pop(tag_field or "", None)
        return cls(**data)

    from_data = cs.no_info_after_validator_function(build, shape)

    def instance_or_data(value: Any, validate: cs.ValidatorFunctionWrapHandler) -> Any:
        return value if isinstance(value, cls) else validate(value)

    return cs.json_or_python_schema(
        json_schema=from_data,
        python_schema=cs.no_info_wrap_validator_function(instance_or_data, from_data),
        # No return_schema: with one, pydantic cannot serialize a record inside a union.
        serialization=cs.plain_serializer_function_ser_schema(to_builtins),
        ref=ref,
    )

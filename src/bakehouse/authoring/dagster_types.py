"""Type checks of asset and op outputs: `DagsterType`, `TypeCheck`, and the type a return annotation
implies.

As in Dagster, an asset annotated ``-> int`` that returns a str fails its step with
`DagsterTypeCheckDidNotPass`. ``dagster_type=DagsterType(type_check_fn=..., name=...)`` (on
`@asset` or `AssetOut`) replaces the annotation with a check of the user's own. Annotations
that name no checkable type (``Any``, ``None``, results such as `MaterializeResult`, iterators
of events, unresolved strings) check nothing.
"""

from __future__ import annotations

import builtins
import collections.abc
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bakehouse.errors import DagsterInvalidDefinitionError, DagsterTypeCheckDidNotPass


@dataclass(frozen=True)
class TypeCheck:
    """The outcome of a type check: passed or not, with a description and metadata."""

    success: bool
    description: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


class TypeCheckContext:
    """What a `type_check_fn` receives as its first argument: the run's logger and resources."""

    def __init__(self, *, log: Any = None, resources: Any = None, run_id: str = "") -> None:
        self.log = log
        self.resources = resources
        self.run_id = run_id


TypeCheckFn = Callable[[TypeCheckContext, Any], "bool | TypeCheck"]


class DagsterType:
    """A named type whose values are checked by ``type_check_fn(context, value)``, which
    returns a bool or a `TypeCheck`."""

    def __init__(
        self,
        type_check_fn: TypeCheckFn,
        key: str | None = None,
        name: str | None = None,
        description: str | None = None,
        typing_type: Any = Any,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        if not callable(type_check_fn):
            raise DagsterInvalidDefinitionError(
                f"DagsterType type_check_fn must be a function of (context, value), "
                f"got {type_check_fn!r}"
            )
        self.type_check_fn = type_check_fn
        self.key = key or name or getattr(type_check_fn, "__name__", "DagsterType")
        self.display_name = name or self.key
        self.unique_name = self.key
        self.description = description
        self.typing_type = typing_type
        self.metadata = dict(metadata or {})

    def type_check(self, context: TypeCheckContext, value: Any) -> TypeCheck:
        """Check `value`; a bool answer becomes a `TypeCheck`."""
        outcome = self.type_check_fn(context, value)
        if isinstance(outcome, TypeCheck):
            return outcome
        if isinstance(outcome, bool):
            return TypeCheck(success=outcome)
        raise DagsterInvalidDefinitionError(
            f"type check of {self.display_name} returned {type(outcome).__name__}; a "
            "type_check_fn returns a bool or a TypeCheck"
        )

    def __repr__(self) -> str:
        return f"<DagsterType {self.display_name}>"


class PythonObjectDagsterType(DagsterType):
    """A type whose values must be instances of `python_type` (a class or a tuple of them)."""

    def __init__(
        self,
        python_type: type | tuple[type, ...],
        key: str | None = None,
        name: str | None = None,
        description: str | None = None,
    ) -> None:
        classes = python_type if isinstance(python_type, tuple) else (python_type,)
        label = name or " | ".join(_type_name(c) for c in classes)
        self.python_type = python_type
        super().__init__(
            lambda _context, value: _instance_check(value, classes, label),
            key=key or label,
            name=label,
            description=description,
            typing_type=python_type,
        )


# Dagster's names of the builtin types, shown in messages as Dagster shows them.
_BUILTIN_NAMES = {
    builtins.int: "Int",
    builtins.float: "Float",
    builtins.str: "String",
    builtins.bool: "Bool",
    builtins.dict: "Dict",
    builtins.list: "List",
    builtins.set: "Set",
    builtins.tuple: "Tuple",
}
# A value of a type on the right is also accepted for the one on the left (PEP 484's numbers).
_ALSO_ACCEPTED: dict[type, tuple[type, ...]] = {
    builtins.float: (builtins.int,),
    builtins.complex: (builtins.int, builtins.float),
}


def _type_name(cls: type) -> str:
    return _BUILTIN_NAMES.get(cls, getattr(cls, "__name__", str(cls)))


def _instance_check(value: Any, classes: tuple[type, ...], label: str) -> TypeCheck:
    accepted = classes + tuple(a for c in classes for a in _ALSO_ACCEPTED.get(c, ()))
    if isinstance(value, accepted):
        return TypeCheck(success=True)
    names = " or ".join(c.__name__ for c in classes)
    return TypeCheck(
        success=False,
        description=f'Value {_short(value)} of python type "{type(value).__name__}" must be '
        f"a {names}.",
    )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# Return annotations that describe events rather than the stored value.
_RESULT_CLASS_NAMES = {"MaterializeResult", "Output", "AssetCheckResult", "ObserveResult"}
_ITERATOR_ORIGINS = (
    collections.abc.Iterator,
    collections.abc.Iterable,
    collections.abc.Generator,
    collections.abc.AsyncIterator,
)


# The DagsterType of each plain class annotation, made once: thousands of assets returning
# ``int`` share one (a DagsterType is not changed after it is made).
_OF_CLASS: dict[type, DagsterType | None] = {}


def dagster_type_of_annotation(annotation: Any) -> DagsterType | None:
    """The type an output annotated `annotation` is checked against; None checks nothing."""
    if isinstance(annotation, DagsterType):
        return annotation
    if type(annotation) is type:
        try:
            return _OF_CLASS[annotation]
        except KeyError:
            made = _OF_CLASS[annotation] = _dagster_type_of(annotation)
            return made
    return _dagster_type_of(annotation)


def _dagster_type_of(annotation: Any) -> DagsterType | None:
    annotation = _unwrapped(annotation)
    checker = _checker(annotation)
    if checker is None:
        return None
    name = _annotation_name(annotation)
    return DagsterType(lambda _context, value: checker(value), name=name, typing_type=annotation)


Checker = Callable[[Any], TypeCheck]


def _unwrapped(annotation: Any) -> Any:
    """The type of the value an ``Output[T]`` or ``Annotated[T, ...]`` annotation describes."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if args and (origin is typing.Annotated or getattr(origin, "__name__", None) == "Output"):
        return _unwrapped(args[0])
    return annotation


def _checker(annotation: Any) -> Checker | None:
    """A function checking values against `annotation`, or None when it cannot be checked."""
    if annotation is None or annotation is type(None) or annotation is Any:
        return None
    if isinstance(annotation, (str, typing.TypeVar)) or annotation is object:
        return None
    annotation = _unwrapped(annotation)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return _union_checker(annotation, args)
    if origin in (list, set, frozenset, collections.abc.Sequence, collections.abc.Set):
        return _collection_checker(annotation, origin, args[0] if args else Any)
    if origin is tuple:
        element = args[0] if len(args) == 2 and args[1] is Ellipsis else Any
        return _collection_checker(annotation, tuple, element)
    if origin in (dict, collections.abc.Mapping):
        return _mapping_checker(annotation, origin, args)
    if origin is not None:
        return None  # Literal, Callable, iterators of events...: nothing to check here
    if not isinstance(annotation, type) or annotation.__name__ in _RESULT_CLASS_NAMES:
        return None
    if annotation in _ITERATOR_ORIGINS:  # a bare Iterator: the function yields events
        return None
    classes = (annotation,)
    label = _type_name(annotation)
    return lambda value: _instance_check(value, classes, label)


def _union_checker(annotation: Any, members: tuple[Any, ...]) -> Checker | None:
    allows_none = type(None) in members
    checkers = [_checker(m) for m in members if m is not type(None)]
    if any(c is None for c in checkers):
        return None
    label = _annotation_name(annotation)

    def check(value: Any) -> TypeCheck:
        if value is None and allows_none:
            return TypeCheck(success=True)
        if any(c(value).success for c in checkers if c is not None):
            return TypeCheck(success=True)
        return TypeCheck(
            success=False,
            description=f'Value {_short(value)} of python type "{type(value).__name__}" is '
            f"not a {label}.",
        )

    return check


def _collection_checker(annotation: Any, origin: Any, element: Any) -> Checker:
    container = _instance_class(origin)
    inner = _checker(element)
    label = _annotation_name(annotation)

    def check(value: Any) -> TypeCheck:
        outer = _instance_check(value, (container,), label)
        if not outer.success or inner is None:
            return outer
        for index, item in enumerate(value):
            found = inner(item)
            if not found.success:
                return TypeCheck(
                    success=False,
                    description=f"Item {index} of the {label}: {found.description}",
                )
        return outer

    return check


def _mapping_checker(annotation: Any, origin: Any, args: tuple[Any, ...]) -> Checker:
    key_check = _checker(args[0]) if args else None
    value_check = _checker(args[1]) if len(args) > 1 else None
    label = _annotation_name(annotation)
    container = _instance_class(origin)

    def check(value: Any) -> TypeCheck:
        outer = _instance_check(value, (container,), label)
        if not outer.success:
            return outer
        for key, item in value.items():
            for checker, what in ((key_check, key), (value_check, item)):
                found = checker(what) if checker is not None else None
                if found is not None and not found.success:
                    return TypeCheck(
                        success=False,
                        description=f"Entry {_short(key)} of the {label}: {found.description}",
                    )
        return outer

    return check


def _instance_class(origin: Any) -> type:
    return origin if isinstance(origin, type) else object


def _annotation_name(annotation: Any) -> str:
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return _type_name(annotation)
    return str(annotation).replace("typing.", "")


def check_output_type(
    dagster_type: DagsterType,
    value: Any,
    *,
    output_name: str,
    owner: str,
    context: TypeCheckContext,
) -> None:
    """Raise `DagsterTypeCheckDidNotPass` when `value` fails `dagster_type`."""
    outcome = dagster_type.type_check(context, value)
    if outcome.success:
        return
    detail = f" Description: {outcome.description}" if outcome.description else ""
    raise DagsterTypeCheckDidNotPass(
        description=f'Type check failed for step output "{output_name}" of {owner} - '
        f'expected type "{dagster_type.display_name}".{detail}',
        metadata=outcome.metadata,
        dagster_type=dagster_type,
    )


def check_dagster_type(dagster_type: Any, value: Any) -> TypeCheck:
    """Check `value` against a `DagsterType` or a Python type, outside a run (as in tests)."""
    resolved = dagster_type_of_annotation(dagster_type)
    if resolved is None:
        return TypeCheck(success=True)
    return resolved.type_check(TypeCheckContext(), value)

"""`function_doc` answers as `inspect.getdoc` does, for every kind of callable an asset, op or
schedule decorates, including a method that inherits its docstring from a base class."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from bakehouse.authoring.source import function_doc


def documented() -> int:
    """Orders.

    Indented second paragraph.
    """
    return 1


def undocumented() -> int:
    return 1


class Base:
    def compute(self) -> int:
        """The base class's words."""
        return 1


class Child(Base):
    def compute(self) -> int:  # inherits its docstring
        return 2


def _nested() -> Callable[[], int]:
    def inner() -> int:
        return 3

    return inner


def test_function_doc_is_inspect_getdoc() -> None:
    cases: list[Any] = [
        documented,
        undocumented,
        Child.compute,
        Child().compute,
        Base.compute,
        _nested(),
        lambda: 1,
        functools.partial(documented),
        functools.wraps(documented)(lambda: 1),
    ]
    for fn in cases:
        assert function_doc(fn) == inspect.getdoc(fn), fn
    assert function_doc(Child.compute) == "The base class's words."
    assert function_doc(undocumented) is None

"""Where a definition was written, so errors and the UI can point at `file:line`."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from types import FrameType, FunctionType
from typing import Any

from bakehouse.errors import SourceLocation

_OWN_PACKAGE = "bakehouse"


def source_of_function(fn: Callable[..., Any]) -> SourceLocation | None:
    """The file and first line (the first decorator's, as Python records it) of `fn`."""
    code = getattr(inspect.unwrap(fn), "__code__", None)
    if code is None:
        return None
    return SourceLocation(code.co_filename, code.co_firstlineno)


def function_doc(fn: Callable[..., Any]) -> str | None:
    """`inspect.getdoc(fn)`: its docstring, cleaned. A module-level function without one has
    none to inherit, so the search of a defining class for it (near a tenth of the cost of
    an `@asset` without a docstring) is skipped."""
    doc = getattr(fn, "__doc__", None)
    if isinstance(doc, str):
        return inspect.cleandoc(doc)
    if doc is None and isinstance(fn, FunctionType) and "." not in fn.__qualname__:
        return None
    return inspect.getdoc(fn)


def caller_frame() -> FrameType | None:
    """The first frame outside bakehouse on the stack: the user's code that called us."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module != _OWN_PACKAGE and not module.startswith(_OWN_PACKAGE + "."):
            return frame
        frame = frame.f_back
    return None


def caller_source() -> SourceLocation | None:
    """Where the user built the object: the file and line of `caller_frame`."""
    frame = caller_frame()
    return SourceLocation(frame.f_code.co_filename, frame.f_lineno) if frame else None

"""Where definitions were written: the function's first decorator line, or the user's frame."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

from bakehouse.authoring.source import caller_source, source_of_function


def decorated(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    return wrapper


def test_a_function_is_found_through_its_wrappers() -> None:
    line = sys._getframe().f_lineno + 2

    @decorated
    def f() -> None:
        return None

    source = source_of_function(f)
    assert source is not None
    assert (source.file, source.line) == (__file__, line)
    assert source_of_function(len) is None  # builtins have no code object


def test_caller_source_is_the_first_frame_outside_bakehouse() -> None:
    line = sys._getframe().f_lineno + 1
    source = caller_source()
    assert source is not None
    assert (source.file, source.line) == (__file__, line)
    assert str(source) == f"{__file__}:{line}"

"""Integration decorators (`@dbt_assets`, `@dlt_assets`) hand what their definition knows to the
run's context, so their resource's ``run(context=...)`` finds it without being given it."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any


def with_info_on_context(
    fn: Callable[..., Any], attribute: str, info: Any
) -> tuple[Callable[..., Any], Callable[[str | None], None]]:
    """`fn` wrapped to set ``context.<attribute> = info`` before it runs, and the function that
    tells the wrapper the name of `fn`'s context parameter (known once the asset is built)."""
    context_param: list[str | None] = [None]

    @functools.wraps(fn)
    def compute(*args: Any, **kwargs: Any) -> Any:
        param = context_param[0]
        given = kwargs.get(param) if param else None
        if given is None and args:
            given = args[0]
        if given is not None:
            setattr(given, attribute, info)
        return fn(*args, **kwargs)

    def bind(param: str | None) -> None:
        context_param[0] = param

    return compute, bind

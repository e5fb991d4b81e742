"""`backoff`: call a function again after an exception, waiting longer each time, as
``dagster._utils.backoff`` does (the Essentials course calls an HTTP API through it)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

BACKOFF_MAX_RETRIES = 4


def exponential_delay_generator() -> Iterator[float]:
    """0.1, 0.2, 0.4, ... seconds: the default waits between attempts."""
    delay = 0.1
    while True:
        yield delay
        delay *= 2


def backoff(
    fn: Callable[..., T],
    retry_on: tuple[type[BaseException], ...] | type[BaseException],
    args: Sequence[Any] | None = None,
    kwargs: Mapping[str, Any] | None = None,
    max_retries: int = BACKOFF_MAX_RETRIES,
    delay_generator: Iterator[float] | None = None,
) -> T:
    """``fn(*args, **kwargs)``, called again up to `max_retries` times while it raises one of
    `retry_on`, sleeping the next value of `delay_generator` (default: 0.1 s, doubling) before
    each retry. Other exceptions pass at once; after the last retry its exception is raised."""
    if max_retries < 0:
        raise ValueError(f"max_retries must be 0 or more, got {max_retries}")
    delays = delay_generator if delay_generator is not None else exponential_delay_generator()
    call_args = list(args or ())
    call_kwargs = dict(kwargs or {})
    retries = 0
    while True:
        try:
            return fn(*call_args, **call_kwargs)
        except retry_on:
            if retries >= max_retries:
                raise
        retries += 1
        time.sleep(next(delays))

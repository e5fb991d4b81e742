"""Issue 12 item 9: ``bakehouse._utils.backoff`` as the Dagster Essentials course uses
``dagster._utils.backoff`` (retrying a flaky HTTP call), with the import renamed."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from bakehouse._utils.backoff import backoff, exponential_delay_generator


class Flaky:
    """Fails `failures` times with `error`, then answers."""

    def __init__(self, failures: int, error: type[Exception] = ConnectionError) -> None:
        self.failures = failures
        self.error = error
        self.calls: list[tuple[object, ...]] = []

    def __call__(self, *args: object, **kwargs: object) -> str:
        self.calls.append((*args, *kwargs.values()))
        if len(self.calls) <= self.failures:
            raise self.error("try again")
        return "ok"


def no_wait() -> Iterator[float]:
    while True:
        yield 0.0


def test_the_course_call_retries_until_the_function_answers() -> None:
    fetch = Flaky(failures=2)
    result = backoff(
        fn=fetch,
        retry_on=(ConnectionError,),
        args=["https://example.invalid/trips.parquet"],
        kwargs={"timeout": 5},
        max_retries=3,
        delay_generator=no_wait(),
    )
    assert result == "ok"
    assert len(fetch.calls) == 3
    assert fetch.calls[0] == ("https://example.invalid/trips.parquet", 5)


def test_after_max_retries_the_last_error_is_raised() -> None:
    fetch = Flaky(failures=10)
    with pytest.raises(ConnectionError, match="try again"):
        backoff(fetch, retry_on=(ConnectionError,), max_retries=2, delay_generator=no_wait())
    assert len(fetch.calls) == 3  # the first call and two retries


def test_other_errors_are_not_retried() -> None:
    fetch = Flaky(failures=1, error=KeyError)
    with pytest.raises(KeyError):
        backoff(fetch, retry_on=(ConnectionError,), delay_generator=no_wait())
    assert len(fetch.calls) == 1


def test_the_default_delays_double_from_a_tenth_of_a_second() -> None:
    delays = exponential_delay_generator()
    assert [next(delays) for _ in range(4)] == [0.1, 0.2, 0.4, 0.8]
    fetch = Flaky(failures=1)
    started = time.monotonic()
    assert backoff(fetch, retry_on=ConnectionError) == "ok"
    assert time.monotonic() - started >= 0.1

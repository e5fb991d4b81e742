"""`RetryPolicy`: how often a step is attempted again after a failed attempt, and how long the
executor waits between attempts (Dagster's ``RetryPolicy``, ``Backoff`` and ``Jitter``); and the
exceptions a step raises to ask for a retry (`RetryRequested`) or to fail with a description,
with or without its policy's retries (`Failure`)."""

from __future__ import annotations

import enum
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bakehouse.errors import DefinitionError


class Backoff(enum.Enum):
    """How the wait grows from one retry to the next."""

    LINEAR = "LINEAR"
    EXPONENTIAL = "EXPONENTIAL"


class Jitter(enum.Enum):
    """Randomness added to the wait, so that retries of many steps do not all land at once."""

    FULL = "FULL"
    PLUS_MINUS = "PLUS_MINUS"


@dataclass(frozen=True)
class RetryPolicy:
    """Attempt a failed step up to `max_retries` more times, `delay` seconds apart (grown by
    `backoff`, spread by `jitter`).

    Every executor honours it; one that runs steps on other hosts (``bakehouse_celery``) also
    retries, under the same policy, a step whose worker died under it. Each attempt is recorded
    in the event log (STEP_UP_FOR_RETRY, then STEP_RESTARTED for the next attempt).
    """

    max_retries: int = 1
    delay: float | None = None
    backoff: Backoff | None = None
    jitter: Jitter | None = None

    def __post_init__(self) -> None:
        if type(self.max_retries) is not int or self.max_retries < 0:
            raise DefinitionError(
                f"RetryPolicy.max_retries must be a whole number of 0 or more, not "
                f"{self.max_retries!r}"
            )
        if self.delay is not None and (not isinstance(self.delay, (int, float)) or self.delay < 0):
            raise DefinitionError(
                f"RetryPolicy.delay must be 0 or more seconds, not {self.delay!r}"
            )
        if (self.backoff or self.jitter) and self.delay is None:
            raise DefinitionError("RetryPolicy: backoff and jitter need a delay to act on")

    def delay_before(self, attempt: int) -> float:
        """Seconds to wait before attempt number `attempt` (2 is the first retry), as Dagster's
        ``calculate_delay`` of the retry's number: LINEAR ``n * delay``, EXPONENTIAL
        ``(2**n - 1) * delay``, then FULL jitter ``random() * that`` or PLUS_MINUS ``that +/-
        delay`` (never below 0)."""
        if not self.delay:
            return 0.0
        retry = max(1, attempt - 1)
        wait = float(self.delay)
        if self.backoff is Backoff.LINEAR:
            wait *= retry
        elif self.backoff is Backoff.EXPONENTIAL:
            wait *= 2**retry - 1
        if self.jitter is Jitter.FULL:
            wait = random.uniform(0, wait)
        elif self.jitter is Jitter.PLUS_MINUS:
            wait = max(0.0, wait + random.uniform(-self.delay, self.delay))
        return wait


class RetryRequested(Exception):
    """Raised in a step to attempt it again, up to `max_retries` retries in all, after
    `seconds_to_wait` seconds (whatever the step's RetryPolicy says)."""

    def __init__(self, max_retries: int | None = 1, seconds_to_wait: float | None = None) -> None:
        if type(max_retries) is not int or max_retries < 0:
            raise DefinitionError(
                f"RetryRequested.max_retries must be a whole number of 0 or more, not "
                f"{max_retries!r}"
            )
        if seconds_to_wait is not None and (
            not isinstance(seconds_to_wait, (int, float)) or seconds_to_wait < 0
        ):
            raise DefinitionError(
                f"RetryRequested.seconds_to_wait must be 0 or more seconds, not {seconds_to_wait!r}"
            )
        super().__init__(f"retry requested (max_retries={max_retries})")
        self.max_retries = max_retries
        self.seconds_to_wait = seconds_to_wait


class Failure(Exception):
    """Raised in a step to fail it with a `description` and `metadata`; with `allow_retries`
    False the step's RetryPolicy is not applied (a failure no retry would fix)."""

    def __init__(
        self,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        allow_retries: bool | None = None,
    ) -> None:
        super().__init__(description)
        self.description = description
        self.metadata = dict(metadata or {})
        self.allow_retries = True if allow_retries is None else bool(allow_retries)

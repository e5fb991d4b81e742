"""`RetryPolicy`: how often a step is attempted again after a failed attempt, and how long the
executor waits between attempts (Dagster's ``RetryPolicy``, ``Backoff`` and ``Jitter``)."""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass

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

    An executor that runs steps on other hosts (``bakehouse_celery``) also retries, under the
    same policy, a step whose worker died under it; each attempt is recorded in the event log.
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
        """Seconds to wait before attempt number `attempt` (2 is the first retry)."""
        if not self.delay:
            return 0.0
        retry = max(1, attempt - 1)
        wait = float(self.delay)
        if self.backoff is Backoff.LINEAR:
            wait *= retry
        elif self.backoff is Backoff.EXPONENTIAL:
            wait *= 2 ** (retry - 1)
        if self.jitter is Jitter.FULL:
            wait = random.uniform(0, wait)
        elif self.jitter is Jitter.PLUS_MINUS:
            wait = max(0.0, wait + random.uniform(-self.delay, self.delay))
        return wait

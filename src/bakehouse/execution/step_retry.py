"""Whether a failed attempt of a step is attempted again, and after how long (Dagster's rules).

- `RetryRequested` raised in the step: retried up to its own `max_retries`, after its
  `seconds_to_wait`, whatever the step's policy; past that, the step fails with "Exceeded
  max_retries of N".
- Any other exception: retried as the step's `RetryPolicy` says (the asset's own, else the run's
  default: its job's ``op_retry_policy``), unless it is a `Failure` with ``allow_retries=False``.
- With retries disabled (the celery executor's ``retries: {"disabled": {}}``) nothing is retried.
"""

from __future__ import annotations

from dataclasses import dataclass

from bakehouse.authoring.retries import Failure, RetryPolicy, RetryRequested
from bakehouse.execution.plan import Step


@dataclass(frozen=True)
class RetryDecision:
    """What becomes of a failed attempt: retried after `seconds_to_wait`, or failed for good."""

    retry: bool
    max_retries: int
    seconds_to_wait: float = 0.0
    # Replaces the error's message when the step fails for good on a RetryRequested.
    message: str | None = None


def step_retry_policy(step: Step, default: RetryPolicy | None) -> RetryPolicy | None:
    """The policy of `step`: its definition's own, else the run's `default`."""
    own = getattr(step.assets_def, "retry_policy", None)
    return own if isinstance(own, RetryPolicy) else default


def decide_retry(
    exc: BaseException, policy: RetryPolicy | None, attempt: int, *, enabled: bool = True
) -> RetryDecision | None:
    """What becomes of attempt number `attempt` (1 is the first) that raised `exc`; None when
    no retry applies at all (the step simply fails)."""
    if isinstance(exc, RetryRequested):
        if not enabled:
            return RetryDecision(False, 0, message="RetryRequested but retries are disabled")
        if attempt > exc.max_retries:
            return RetryDecision(
                False, exc.max_retries, message=f"Exceeded max_retries of {exc.max_retries}"
            )
        return RetryDecision(True, exc.max_retries, float(exc.seconds_to_wait or 0.0))
    if policy is None or not enabled or (isinstance(exc, Failure) and not exc.allow_retries):
        return None
    if attempt > policy.max_retries:
        return None
    return RetryDecision(True, policy.max_retries, policy.delay_before(attempt + 1))

"""Whether a failed attempt of a step is attempted again, and after how long (Dagster's rules).

- `RetryRequested` raised in the step: retried up to its own `max_retries`, after its
  `seconds_to_wait`, whatever the step's policy; past that, the step fails with "Exceeded
  max_retries of N".
- Any other exception: retried as the step's `RetryPolicy` says (the asset's own, else the run's
  default: its job's ``op_retry_policy``), unless it is a `Failure` with ``allow_retries=False``.
- With retries disabled (the celery executor's ``retries: {"disabled": {}}``) nothing is retried.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bakehouse.authoring.retries import Failure, RetryPolicy, RetryRequested
from bakehouse.errors import ErrorInfo
from bakehouse.execution.events import EventWriter
from bakehouse.execution.plan import Step
from bakehouse.storage.records import EventType

if TYPE_CHECKING:
    from bakehouse.execution.step_executor import RunSteps


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


def job_retry_policy(steps: RunSteps) -> RetryPolicy | None:
    """The RetryPolicy of the run's steps that have none of their own: its job's
    ``op_retry_policy``, if the run is of a job that has one."""
    if not steps.job_name:
        return None
    try:
        job = steps.defs.get_job_def(steps.job_name)
    except Exception:  # noqa: BLE001 - a run of a job these definitions lack has no default
        return None
    policy = getattr(job, "op_retry_policy", None)
    return policy if isinstance(policy, RetryPolicy) else None


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
    if not enabled or (isinstance(exc, Failure) and not exc.allow_retries):
        return None
    return retry_by_policy(policy, attempt)


def retry_by_policy(policy: RetryPolicy | None, attempt: int) -> RetryDecision | None:
    """What `policy` makes of failed attempt number `attempt`: another attempt after its delay
    while it has retries left, else None (the step fails). For any failure but a
    RetryRequested, a process that died included."""
    if policy is None or attempt > policy.max_retries:
        return None
    return RetryDecision(True, policy.max_retries, policy.delay_before(attempt + 1))


def record_up_for_retry(
    writer: EventWriter,
    step_key: str,
    error: ErrorInfo,
    *,
    attempt: int,
    max_retries: int,
    seconds_to_wait: float,
    partition_key: str | None,
    data: Mapping[str, Any] | None = None,
) -> None:
    """STEP_UP_FOR_RETRY for attempt number `attempt`, with Dagster's message, whatever ended the
    attempt (an exception in the step, or its process dying); `data` adds to the event's."""
    in_seconds = f" in {seconds_to_wait:.3g} seconds" if seconds_to_wait else ""
    writer.emit(
        EventType.STEP_UP_FOR_RETRY,
        f"Execution of step '{step_key}' failed and has requested a retry{in_seconds} "
        f"(attempt {attempt + 1} of {max_retries + 1}): {error.message}",
        level="WARNING",
        step_key=step_key,
        partition_key=partition_key,
        data={
            "error": error.to_dict(),
            "attempt": attempt,
            "next_attempt": attempt + 1,
            "max_retries": max_retries,
            "seconds_to_wait": seconds_to_wait,
            **(data or {}),
        },
    )

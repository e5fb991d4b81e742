"""Recording asset check results: match each `AssetCheckResult` to a check of its step, write
it as an ASSET_CHECK_EVALUATION event, and fail the step when a blocking check failed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bakehouse.authoring.check_spec import AssetCheckKey, AssetCheckSpec
from bakehouse.authoring.metadata import normalize_metadata
from bakehouse.authoring.results import AssetCheckResult, AssetCheckSeverity
from bakehouse.errors import ExecutionError
from bakehouse.execution.events import EventWriter
from bakehouse.storage.records import EventType


class AssetCheckFailedError(ExecutionError):
    """Raised (and recorded as the step's failure) when a blocking check fails with ERROR."""

    def __init__(self, failed: Sequence[AssetCheckKey]) -> None:
        self.failed = list(failed)
        listed = "\n".join(f"{k.asset_key.to_user_string()}: {k.name}" for k in failed)
        noun = "check" if len(failed) == 1 else "checks"
        super().__init__(
            f"{len(failed)} blocking asset {noun} failed with ERROR severity:\n{listed}"
        )


def match_results(
    step_key: str,
    specs: Mapping[AssetCheckKey, AssetCheckSpec],
    results: Sequence[AssetCheckResult],
) -> dict[AssetCheckKey, AssetCheckResult]:
    """Each result by the check it answers; raises ExecutionError naming the step for a result
    no check of the step expects, a check answered twice, or a check left unanswered."""
    matched: dict[AssetCheckKey, AssetCheckResult] = {}
    for result in results:
        key = _key_of(step_key, specs, result)
        if key in matched:
            raise ExecutionError(f"step '{step_key}' returned two results for check '{key}'")
        matched[key] = result
    missing = [str(k) for k in specs if k not in matched]
    if missing:
        raise ExecutionError(
            f"step '{step_key}' returned no AssetCheckResult for {missing}: return or yield one "
            "per check (in a MaterializeResult, give check_results=[...])"
        )
    return matched


def _key_of(
    step_key: str, specs: Mapping[AssetCheckKey, AssetCheckSpec], result: AssetCheckResult
) -> AssetCheckKey:
    candidates = [
        k
        for k in specs
        if (result.asset_key is None or k.asset_key == result.asset_key)
        and (result.check_name is None or k.name == result.check_name)
    ]
    if len(candidates) == 1:
        return candidates[0]
    expected = ", ".join(str(k) for k in specs) or "none"
    given = f"asset_key={result.asset_key!s}, check_name={result.check_name!r}"
    if not candidates:
        raise ExecutionError(
            f"step '{step_key}' returned an AssetCheckResult ({given}) that matches none of the "
            f"checks it evaluates ({expected})"
        )
    raise ExecutionError(
        f"step '{step_key}' evaluates several checks ({expected}): give each AssetCheckResult "
        "its check_name (and asset_key)"
    )


def record_results(
    writer: EventWriter,
    step_key: str,
    specs: Mapping[AssetCheckKey, AssetCheckSpec],
    matched: Mapping[AssetCheckKey, AssetCheckResult],
    partition_key: str | None = None,
) -> None:
    """Write one ASSET_CHECK_EVALUATION per result, then raise `AssetCheckFailedError` if a
    blocking check failed with ERROR severity (so the step fails and what is downstream
    skips)."""
    failed_blocking: list[AssetCheckKey] = []
    for key, result in matched.items():
        spec = specs[key]
        severity = result.severity
        if result.passed:
            verdict, level = "passed", "INFO"
        else:
            verdict, level = f"failed ({severity.value})", "WARNING"
            if spec.blocking and severity is AssetCheckSeverity.ERROR:
                failed_blocking.append(key)
        writer.emit(
            EventType.ASSET_CHECK_EVALUATION,
            f"Asset check '{key.name}' of {key.asset_key.to_user_string()} {verdict}.",
            level=level,
            step_key=step_key,
            asset_key=key.asset_key.to_user_string(),
            partition_key=partition_key,
            data={
                "check_name": key.name,
                "passed": result.passed,
                "severity": severity.value,
                "blocking": spec.blocking,
                "description": result.description,
                "metadata": normalize_metadata(result.metadata),
            },
        )
    if failed_blocking:
        raise AssetCheckFailedError(failed_blocking)

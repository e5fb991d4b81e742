"""Recording asset check results: match each `AssetCheckResult` to a check of its step, write
it as an ASSET_CHECK_EVALUATION event, and fail the step when a blocking check failed.

A returned answer is matched whole before anything is recorded (`match_results`, then
`record_results`); results a generator yields are recorded as they come (`StreamedChecks`), so
a step that yields a failed check and then raises (a dbt build whose test failed) still shows
the check's evaluation."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

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
    *,
    answered: Collection[AssetCheckKey] = (),
    require_all: bool = True,
) -> dict[AssetCheckKey, AssetCheckResult]:
    """Each result by the check it answers; raises ExecutionError naming the step for a result
    no check of the step expects, a check answered twice (here or in `answered`, the streamed
    ones), or, with `require_all`, a check left unanswered."""
    matched: dict[AssetCheckKey, AssetCheckResult] = {}
    for result in results:
        key = _key_of(step_key, specs, result)
        if key in matched or key in answered:
            raise ExecutionError(f"step '{step_key}' returned two results for check '{key}'")
        matched[key] = result
    missing = [str(k) for k in specs if k not in matched and k not in answered]
    if missing and require_all:
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
    *,
    failed_before: Sequence[AssetCheckKey] = (),
) -> None:
    """Write one ASSET_CHECK_EVALUATION per result, then raise `AssetCheckFailedError` if a
    blocking check failed with ERROR severity (here or in `failed_before`, the streamed ones),
    so the step fails and what is downstream skips."""
    failed_blocking = list(failed_before)
    for key, result in matched.items():
        if _emit(writer, step_key, specs[key], key, result, partition_key):
            failed_blocking.append(key)
    if failed_blocking:
        raise AssetCheckFailedError(failed_blocking)


class StreamedChecks:
    """Records the check results a step's generator yields, each as it comes."""

    def __init__(
        self,
        writer: EventWriter,
        step_key: str,
        specs: Mapping[AssetCheckKey, AssetCheckSpec],
        partition_key: str | None,
    ) -> None:
        self.writer = writer
        self.step_key = step_key
        self.specs = specs
        self.partition_key = partition_key
        self.answered: set[AssetCheckKey] = set()
        self.failed_blocking: list[AssetCheckKey] = []

    def add(self, result: AssetCheckResult) -> None:
        """Match `result` to its check and write its evaluation now."""
        key = _key_of(self.step_key, self.specs, result)
        if key in self.answered:
            raise ExecutionError(f"step '{self.step_key}' returned two results for check '{key}'")
        self.answered.add(key)
        if _emit(self.writer, self.step_key, self.specs[key], key, result, self.partition_key):
            self.failed_blocking.append(key)


def _emit(
    writer: EventWriter,
    step_key: str,
    spec: AssetCheckSpec,
    key: AssetCheckKey,
    result: AssetCheckResult,
    partition_key: str | None,
) -> bool:
    """Write one evaluation; True when it is a blocking check that failed with ERROR."""
    severity = result.severity
    failed_blocking = False
    if result.passed:
        verdict, level = "passed", "INFO"
    else:
        verdict, level = f"failed ({severity.value})", "WARNING"
        failed_blocking = spec.blocking and severity is AssetCheckSeverity.ERROR
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
    return failed_blocking

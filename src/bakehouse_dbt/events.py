"""dbt's structured log lines (``--log-format json``) and the asset events they stand for: a
finished model, seed or snapshot is a materialization, a finished test a check result."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bakehouse.authoring.results import AssetCheckResult, AssetCheckSeverity, MaterializeResult
from bakehouse_dbt.specs import DbtAssetsInfo

_BUILT = {"success"}
_TEST_STATUSES = {"pass", "fail", "warn", "error"}


@dataclass(frozen=True)
class DbtCliEventMessage:
    """One line of dbt's JSON log: `raw_event` is the line as dbt wrote it."""

    raw_event: Mapping[str, Any]

    @property
    def name(self) -> str:
        """dbt's name of the event, such as ``NodeFinished``."""
        return str(self.raw_event.get("info", {}).get("name", ""))

    @property
    def level(self) -> str:
        """``debug``, ``info``, ``warn`` or ``error``."""
        return str(self.raw_event.get("info", {}).get("level", "info"))

    @property
    def message(self) -> str:
        """The human-readable line dbt prints for it."""
        return str(self.raw_event.get("info", {}).get("msg", ""))

    def __str__(self) -> str:
        return self.message

    def to_default_asset_events(
        self, info: DbtAssetsInfo, context: Any = None
    ) -> Iterator[MaterializeResult[None] | AssetCheckResult]:
        """The materialization or check result this event reports, for the nodes `context`
        selected (every node of `info` without a context)."""
        if self.name != "NodeFinished":
            return
        data = self.raw_event.get("data", {})
        node_info = data.get("node_info", {})
        run_result = data.get("run_result", {})
        unique_id = node_info.get("unique_id", "")
        status = str(node_info.get("node_status") or run_result.get("status") or "")
        invocation_id = self.raw_event.get("info", {}).get("invocation_id")
        metadata: dict[str, Any] = {"unique_id": unique_id}
        if invocation_id:
            metadata["invocation_id"] = invocation_id
        metadata.update(_timing_metadata(node_info, run_result))
        key = info.key_by_unique_id.get(unique_id)
        if key is not None and status in _BUILT:
            if context is not None and key not in context.selected_asset_keys:
                return
            rows = (run_result.get("adapter_response") or {}).get("rows_affected")
            if isinstance(rows, (int, float)) and rows >= 0:
                metadata["dagster/row_count"] = int(rows)
            yield MaterializeResult(asset_key=key, metadata=metadata)
            return
        check = info.check_by_unique_id.get(unique_id)
        if check is None or status not in _TEST_STATUSES:
            return
        if context is not None and check not in context.selected_asset_check_keys:
            return
        failures = run_result.get("failures", run_result.get("num_failures"))
        metadata["status"] = status
        if isinstance(failures, int):
            metadata["dagster_dbt/failed_row_count"] = failures
        message = run_result.get("message")
        yield AssetCheckResult(
            passed=status == "pass",
            asset_key=check.asset_key,
            check_name=check.name,
            severity=AssetCheckSeverity.WARN if status == "warn" else AssetCheckSeverity.ERROR,
            metadata=metadata,
            description=str(message) if message else None,
        )


def _timing_metadata(
    node_info: Mapping[str, Any], run_result: Mapping[str, Any]
) -> dict[str, float]:
    """How long dbt took over the node: in all (``Execution Duration``, seconds), compiling
    and executing it."""
    found: dict[str, float] = {}
    total = run_result.get("execution_time")
    if isinstance(total, (int, float)):
        found["Execution Duration"] = float(total)
    else:
        seconds = _seconds(node_info.get("node_started_at"), node_info.get("node_finished_at"))
        if seconds is not None:
            found["Execution Duration"] = seconds
    for timing in run_result.get("timing_info") or run_result.get("timing") or []:
        seconds = _seconds(timing.get("started_at"), timing.get("completed_at"))
        if seconds is not None and timing.get("name") in ("compile", "execute"):
            found[f"dbt/{timing['name']}_seconds"] = seconds
    return found


def _seconds(started: Any, finished: Any) -> float | None:
    if not started or not finished:
        return None
    try:
        begin = datetime.fromisoformat(str(started).replace("Z", "+00:00"))
        end = datetime.fromisoformat(str(finished).replace("Z", "+00:00"))
    except ValueError:
        return None
    return max((end - begin).total_seconds(), 0.0)

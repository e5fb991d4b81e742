"""`DbtCliInvocation`: one running dbt command, read line by line as dbt writes its JSON log."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from bakehouse.authoring.results import AssetCheckResult, MaterializeResult
from bakehouse.errors import ExecutionError
from bakehouse_dbt.events import DbtCliEventMessage
from bakehouse_dbt.specs import DbtAssetsInfo


class DagsterDbtCliRuntimeError(ExecutionError):
    """Raised when a dbt command exits with an error (a model failed, a test errored)."""


class DbtCliInvocation:
    """A dbt command started by `DbtCliResource.cli`; `stream()` yields its asset events."""

    def __init__(
        self,
        *,
        process: subprocess.Popen[str],
        args: Sequence[str],
        project_dir: Path,
        target_path: Path,
        info: DbtAssetsInfo | None,
        context: Any,
        raise_on_error: bool,
    ) -> None:
        self.process = process
        self.args = list(args)
        self.project_dir = project_dir
        self.target_path = target_path
        self.info = info
        self.context = context
        self.raise_on_error = raise_on_error
        self._errors: list[str] = []
        self._lines: list[str] = []
        self._finished = False

    def stream_raw_events(self) -> Iterator[DbtCliEventMessage]:
        """Every event of dbt's JSON log, as dbt writes it; info and louder lines go to the
        run's log too. Raises `DagsterDbtCliRuntimeError` at the end if dbt failed."""
        stdout: IO[str] | None = self.process.stdout
        log = getattr(self.context, "log", None)
        finished = False
        try:
            for line in stdout if stdout is not None else ():
                event = self._parse(line)
                if event is None:
                    continue
                if log is not None and event.level != "debug" and event.message.strip():
                    _log(log, event)
                if event.level == "error" and event.message.strip():
                    self._errors.append(event.message.strip())
                yield event
            finished = True
        finally:
            if not finished:
                # The consumer stopped early (the step failed or was cancelled): stop dbt too
                # rather than leave it writing to the warehouse.
                self._terminate()
            if stdout is not None:
                stdout.close()
        self._finish()

    def stream(self) -> Iterator[MaterializeResult[None] | AssetCheckResult]:
        """The materializations and check results dbt reports, as it reports them."""
        for event in self.stream_raw_events():
            if self.info is not None:
                yield from event.to_default_asset_events(self.info, self.context)

    def wait(self) -> DbtCliInvocation:
        """Run dbt to its end (discarding its events); raises if it failed."""
        for _ in self.stream_raw_events():
            pass
        return self

    def is_successful(self) -> bool:
        """Whether dbt exited with 0 (waits for it)."""
        return self.process.wait() == 0

    def get_artifact(self, artifact: str) -> dict[str, Any]:
        """An artifact dbt wrote, such as ``run_results.json`` or ``manifest.json``."""
        loaded: dict[str, Any] = json.loads((self.target_path / artifact).read_text("utf-8"))
        return loaded

    def _parse(self, line: str) -> DbtCliEventMessage | None:
        text = line.strip()
        if not text:
            return None
        try:
            raw = json.loads(text)
        except ValueError:
            # dbt prints a few lines before its logger starts (and Python warnings); keep
            # them for the error message.
            self._lines.append(text)
            return None
        if not isinstance(raw, dict) or "info" not in raw:
            return None
        return DbtCliEventMessage(raw)

    def _terminate(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def _finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        code = self.process.wait()
        if code == 0 or not self.raise_on_error:
            return
        detail = "\n".join(self._errors or self._lines[-20:]) or "(no output)"
        raise DagsterDbtCliRuntimeError(
            f"dbt {' '.join(self.args)} failed with exit code {code} in {self.project_dir}:\n"
            f"{detail}"
        )


def _log(log: Any, event: DbtCliEventMessage) -> None:
    level = event.level
    message = f"dbt: {event.message}"
    if level == "error":
        log.error(message)
    elif level == "warn":
        log.warning(message)
    else:
        log.info(message)

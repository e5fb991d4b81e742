"""The exceptions bakehouse raises: Dagster's classes, and bakehouse's own beneath them.

Dagster code catches ``dg.DagsterInvalidDefinitionError`` or ``DagsterTypeCheckDidNotPass``
by name, so those names are the roots here, under `DagsterError`, with Dagster's meanings.
bakehouse's own errors derive from `BakehouseError` and from the Dagster class of the same
meaning (a `DefinitionError` is a `DagsterInvalidDefinitionError`), so either name catches them.

Definition errors carry the user's ``file:line`` and print it first, so a message points at the
code to change before it explains what is wrong. Errors that cross a process boundary travel as
`ErrorInfo`, plain data with the original type, message and traceback.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType

# -- Dagster's names -----------------------------------------------------------------------


class DagsterError(Exception):
    """Base class of every error bakehouse raises on purpose (Dagster's root name)."""


class DagsterInvalidDefinitionError(DagsterError):
    """Raised when a definition (asset, job, schedule, Definitions) is invalid."""


class DagsterInvariantViolationError(DagsterError):
    """Raised when something is used in a way its contract does not allow at run time."""


class DagsterInvalidInvocationError(DagsterError):
    """Raised when a definition is called directly with arguments it cannot take."""


class DagsterInvalidSubsetError(DagsterError):
    """Raised when a selection of assets or checks does not fit the definitions."""


class DagsterInvalidConfigError(DagsterError):
    """Raised when run config does not match what the assets take; `errors` lists each fault."""

    def __init__(
        self, preamble: str, errors: Sequence[str] = (), config_value: object = None
    ) -> None:
        self.errors = list(errors)
        self.config_value = config_value
        listed = "".join(f"\n    {e}" for e in self.errors)
        super().__init__(preamble + listed)


class DagsterTypeCheckDidNotPass(DagsterError):
    """Raised when a value fails the type check of the output (or input) it is given for."""

    def __init__(
        self,
        description: str | None = None,
        metadata: Mapping[str, object] | None = None,
        dagster_type: object = None,
    ) -> None:
        self.description = description
        self.metadata = dict(metadata or {})
        self.dagster_type = dagster_type
        super().__init__(description or "type check did not pass")


class DagsterUserCodeExecutionError(DagsterError):
    """Raised when user code raised; `user_exception` is the user's exception."""

    def __init__(self, message: str, user_exception: BaseException | None = None) -> None:
        self.user_exception = user_exception
        super().__init__(message)


class DagsterExecutionStepExecutionError(DagsterUserCodeExecutionError):
    """Raised when the function of a step raised."""

    def __init__(
        self,
        message: str,
        user_exception: BaseException | None = None,
        step_key: str | None = None,
    ) -> None:
        self.step_key = step_key
        super().__init__(message, user_exception)


class DagsterResourceFunctionError(DagsterUserCodeExecutionError):
    """Raised when a resource failed to set up for a run."""


class DagsterUnknownResourceError(DagsterError, AttributeError):
    """Raised when code asks the context for a resource it was not given."""

    def __init__(self, resource_name: str, message: str | None = None) -> None:
        self.resource_name = resource_name
        super().__init__(message or f"unknown resource '{resource_name}'")


class DagsterUnknownPartitionError(DagsterError):
    """Raised when a partition key is not one of the partitions definition's keys."""


class DagsterRunNotFoundError(DagsterError):
    """Raised when no run has the given id; `invalid_run_id` names it."""

    def __init__(self, message: str, invalid_run_id: str | None = None) -> None:
        self.invalid_run_id = invalid_run_id
        super().__init__(message)


class DagsterCodeLocationLoadError(DagsterError):
    """Raised when a code location fails to load."""


# -- bakehouse's own, each beneath the Dagster class of its meaning ---------------------------


class BakehouseError(DagsterError):
    """Base class of every error bakehouse raises on purpose."""


@dataclass(frozen=True)
class SourceLocation:
    """Where a definition was written: a file and a line in it."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class DefinitionError(BakehouseError, DagsterInvalidDefinitionError):
    """Raised when user definitions are invalid; names the file:line at fault."""

    def __init__(self, message: str, *, source: SourceLocation | None = None) -> None:
        self.source = source
        self.detail = message
        super().__init__(f"{source}: {message}" if source else message)


class DuplicateKeyError(DefinitionError):
    """Raised when two different definitions claim the same key."""

    def __init__(
        self,
        kind: str,
        key: str,
        first: SourceLocation | None,
        second: SourceLocation | None,
    ) -> None:
        self.kind = kind
        self.key = key
        self.first = first
        self.second = second
        where_first = str(first) if first else "an unknown place"
        advice = (
            "Give one of them another name or key_prefix."
            if kind == "asset"
            else f"Give one of the {kind}s another name."
        )
        super().__init__(
            f"duplicate {kind} key '{key}': also defined at {where_first}. {advice}",
            source=second,
        )


class CycleError(DefinitionError):
    """Raised when asset dependencies form a cycle; `path` lists the keys around it."""

    def __init__(self, path: Sequence[str], sources: Sequence[SourceLocation | None]) -> None:
        self.path = list(path)
        arrows = " -> ".join([*path, path[0]])
        where = "\n".join(
            f"  {key} at {src}" for key, src in zip(path, sources, strict=False) if src is not None
        )
        super().__init__(
            f"dependency cycle: {arrows}" + (f"\n{where}" if where else ""),
            source=sources[0] if sources else None,
        )


class MissingResourceError(DefinitionError):
    """Raised when a definition requires a resource key that nothing provides."""

    def __init__(
        self,
        resource_key: str,
        required_by: str,
        source: SourceLocation | None,
        provided: Sequence[str],
    ) -> None:
        self.resource_key = resource_key
        self.required_by = required_by
        listed = ", ".join(sorted(provided)) or "none"
        super().__init__(
            f"{required_by} requires resource '{resource_key}', which is not provided "
            f"(resources provided: {listed}). Add it to Definitions(resources={{...}}).",
            source=source,
        )


class SelectionError(BakehouseError, DagsterInvalidSubsetError, ValueError):
    """Raised when an asset selection string cannot be parsed or selects unknown keys."""


class LaunchError(SelectionError):
    """Raised when a run cannot be launched as asked: unknown assets, a partition that does not
    fit, invalid run config; nothing was stored."""


class BackfillError(BakehouseError, ValueError):
    """Raised when a backfill cannot be requested or changed as asked (selection, keys, state)."""


class ProjectError(BakehouseError):
    """Raised when a project's settings or layout cannot be understood."""


class ScaffoldError(BakehouseError):
    """Raised when a project, workspace or definition file cannot be created where asked."""


class LocationLoadError(BakehouseError, DagsterCodeLocationLoadError):
    """Raised when a code location fails to load; carries the location's `ErrorInfo`."""

    def __init__(self, location: str, error: ErrorInfo) -> None:
        self.location = location
        self.error = error
        super().__init__(f"code location '{location}' failed to load:\n{error.render()}")


class UserCodeError(BakehouseError, DagsterUserCodeExecutionError):
    """Raised when user code raised; `error` holds the user's exception with our frames trimmed."""

    def __init__(self, message: str, error: ErrorInfo) -> None:
        self.error = error
        super().__init__(message)


class StorageError(BakehouseError):
    """Raised when instance storage cannot be opened, migrated or read."""


class CorruptRecordError(StorageError):
    """Raised when one stored row cannot be read back as its record (e.g. a body that is not
    JSON); names the table, the row and why, so the rest of storage stays readable."""

    def __init__(self, table: str, key: str, reason: str) -> None:
        self.table = table
        self.key = key
        self.reason = reason
        super().__init__(f"corrupt row in {table} ({key}): {reason}")


class RunNotFoundError(StorageError, DagsterRunNotFoundError):
    """Raised when no run has the given id."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        super().__init__(f"no run with id '{run_id}'", invalid_run_id=run_id)


class AmbiguousRunIdError(StorageError):
    """Raised when a short run id is the start of more than one run's id."""

    def __init__(self, prefix: str, candidates: Sequence[str], more: bool) -> None:
        self.prefix = prefix
        self.candidates = list(candidates)
        listed = ", ".join(self.candidates) + (", ..." if more else "")
        super().__init__(
            f"run id '{prefix}' is the start of {'more than ' if more else ''}"
            f"{len(self.candidates)} runs' ids: {listed}; give more of the id"
        )


class ProtocolError(BakehouseError):
    """Raised when a message between processes is malformed or of an unknown version."""


class DecodeError(BakehouseError, ValueError):
    """Raised when JSON is not the record it should be; `what` names the record (and its row)."""

    def __init__(self, what: str, reason: str) -> None:
        self.what = what
        self.reason = reason
        super().__init__(f"corrupt {what}: {reason}")


class ExecutionError(BakehouseError, DagsterInvariantViolationError):
    """Raised when a run cannot be planned or executed (not when a user step fails)."""


class RunConfigError(ExecutionError, DagsterInvalidConfigError):
    """Raised when a run's config does not fit the `Config` classes of its assets."""

    def __init__(self, message: str, config_value: object = None) -> None:
        DagsterInvalidConfigError.__init__(self, message, [], config_value)


class ResourceSetupError(ExecutionError, DagsterResourceFunctionError):
    """Raised when a resource failed to set up for a run; `user_exception` is why."""

    def __init__(
        self,
        message: str,
        *,
        resource_key: str | None = None,
        user_exception: BaseException | None = None,
    ) -> None:
        self.resource_key = resource_key
        DagsterResourceFunctionError.__init__(self, message, user_exception)


class UnknownPartitionError(ExecutionError, DagsterUnknownPartitionError, ValueError):
    """Raised when a partition key is not one of the keys of the partitions definition used."""

    def __init__(self, partition_key: str, partitions: str) -> None:
        self.partition_key = partition_key
        self.partitions = partitions
        super().__init__(f"no partition {partition_key!r} in {partitions}")


# Frames in bakehouse's own package, or in the import machinery, are plumbing: a user's
# traceback is clearer without them.
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_IMPORT_MACHINERY = ("<frozen importlib", f"{os.sep}importlib{os.sep}__init__.py")


def is_framework_frame(filename: str) -> bool:
    """True for frames of bakehouse itself or of the import machinery."""
    return filename.startswith(_PACKAGE_DIR) or any(m in filename for m in _IMPORT_MACHINERY)


@dataclass(frozen=True)
class ErrorInfo:
    """An exception as plain data, so it can cross a process boundary or be stored."""

    cls_name: str
    message: str
    stack: list[str] = field(default_factory=list)
    cause: ErrorInfo | None = None

    @classmethod
    def from_exception(cls, exc: BaseException, *, trim_framework: bool = True) -> ErrorInfo:
        """Capture `exc`, its traceback (without bakehouse's frames) and its cause chain."""
        stack = _format_stack(exc.__traceback__, trim_framework)
        cause_exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
        cause = cls.from_exception(cause_exc, trim_framework=trim_framework) if cause_exc else None
        text = str(exc)
        message = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
        if isinstance(exc, SyntaxError):
            message = traceback.format_exception_only(type(exc), exc)[-1].strip()
            stack += [line for line in traceback.format_exception_only(type(exc), exc)[:-1]]
        return cls(cls_name=type(exc).__name__, message=message, stack=stack, cause=cause)

    def render(self) -> str:
        """The error as Python would print it, causes first."""
        parts: list[str] = []
        if self.cause is not None:
            parts.append(self.cause.render())
            parts.append("\nThe above exception was the direct cause of the following exception:\n")
        if self.stack:
            parts.append("Traceback (most recent call last):\n" + "".join(self.stack).rstrip("\n"))
        parts.append(self.message)
        return "\n".join(parts)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "cls_name": self.cls_name,
            "message": self.message,
            "stack": list(self.stack),
            "cause": self.cause.to_dict() if self.cause else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> ErrorInfo:
        """The inverse of `to_dict`."""
        cause = data.get("cause")
        stack = data.get("stack") or []
        return cls(
            cls_name=str(data.get("cls_name", "Exception")),
            message=str(data.get("message", "")),
            stack=[str(s) for s in stack] if isinstance(stack, list) else [],
            cause=cls.from_dict(cause) if isinstance(cause, dict) else None,
        )


def _format_stack(tb: TracebackType | None, trim_framework: bool) -> list[str]:
    frames = traceback.extract_tb(tb)
    if trim_framework:
        # An error bakehouse raised on purpose keeps no frames at all: its message names the
        # user's file:line, and its cause carries the user's traceback.
        frames = traceback.StackSummary.from_list(
            [f for f in frames if not is_framework_frame(f.filename)]
        )
    return list(frames.format())

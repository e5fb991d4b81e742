"""Dagster's error classes at Dagster's path (``dagster._core.errors``), for code importing
them from there; they are defined, with bakehouse's own beneath them, in `bakehouse.errors`."""

from bakehouse.errors import (
    DagsterCodeLocationLoadError,
    DagsterError,
    DagsterExecutionStepExecutionError,
    DagsterInvalidConfigError,
    DagsterInvalidDefinitionError,
    DagsterInvalidInvocationError,
    DagsterInvalidSubsetError,
    DagsterInvariantViolationError,
    DagsterResourceFunctionError,
    DagsterRunNotFoundError,
    DagsterTypeCheckDidNotPass,
    DagsterUnknownPartitionError,
    DagsterUnknownResourceError,
    DagsterUserCodeExecutionError,
)

__all__ = [
    "DagsterCodeLocationLoadError",
    "DagsterError",
    "DagsterExecutionStepExecutionError",
    "DagsterInvalidConfigError",
    "DagsterInvalidDefinitionError",
    "DagsterInvalidInvocationError",
    "DagsterInvalidSubsetError",
    "DagsterInvariantViolationError",
    "DagsterResourceFunctionError",
    "DagsterRunNotFoundError",
    "DagsterTypeCheckDidNotPass",
    "DagsterUnknownPartitionError",
    "DagsterUnknownResourceError",
    "DagsterUserCodeExecutionError",
]

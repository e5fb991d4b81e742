"""Jobs: named selections of assets to materialize together (`define_asset_job`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bakehouse.authoring.asset_selection import AssetSelection, coerce_selection
from bakehouse.authoring.executors import ExecutorDefinition
from bakehouse.authoring.retries import RetryPolicy
from bakehouse.authoring.run_config import plain_run_config
from bakehouse.authoring.source import caller_source
from bakehouse.errors import DefinitionError, SourceLocation

if TYPE_CHECKING:
    from bakehouse.authoring.partitions import PartitionsDefinition

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True, kw_only=True)
class AssetJobDefinition:
    """A job over a selection of assets; the selection is resolved against the location's graph."""

    name: str
    selection: AssetSelection
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    config: Mapping[str, Any] | None = None
    executor_def: ExecutorDefinition | None = None
    source: SourceLocation | None = None
    # The partitions each run of the job picks one of; its partitioned assets must have them.
    partitions_def: PartitionsDefinition | None = None
    # `HookDefinition`s called after each step of the job's runs.
    hooks: tuple[Any, ...] = ()
    # The RetryPolicy of every step of the job's runs that has none of its own.
    op_retry_policy: RetryPolicy | None = None

    def bind(self, defs: Any) -> None:
        """Remember the `Definitions` that hold this job's assets (`Definitions.get_job_def`
        does), so that `execute_in_process` can run it."""
        object.__setattr__(self, "_defs", defs)

    def execute_in_process(self, run_config: Any = None, **kwargs: Any) -> Any:
        """Run the job in this process, with the `Definitions` it was got from
        (``defs.get_job_def(name).execute_in_process()``); see `ResolvedAssetJob`."""
        defs = getattr(self, "_defs", None)
        if defs is None:
            raise DefinitionError(
                f"job '{self.name}' selects assets it does not hold; run it with the "
                f"Definitions that hold them: defs.get_job_def('{self.name}')"
                ".execute_in_process()",
                source=self.source,
            )
        from bakehouse.authoring.definitions_class import ResolvedAssetJob

        return ResolvedAssetJob(defs, self).execute_in_process(run_config, **kwargs)


def define_asset_job(
    name: str,
    selection: object = None,
    *,
    config: Mapping[str, Any] | Any | None = None,
    description: str | None = None,
    tags: Mapping[str, str] | None = None,
    executor_def: ExecutorDefinition | None = None,
    partitions_def: PartitionsDefinition | None = None,
    hooks: Iterable[Any] | None = None,
    op_retry_policy: RetryPolicy | None = None,
) -> AssetJobDefinition:
    """Define a job that materializes `selection` (default: every asset).

    `selection` is an `AssetSelection`, a selection string (``"group:sales+"``) or a list of
    assets or keys. With `partitions_def`, each run materializes one of its partitions (the
    selected partitioned assets must be partitioned the same way). `op_retry_policy` applies
    to every step of the job's runs whose asset has no RetryPolicy of its own.
    """
    source = caller_source()
    if not isinstance(name, str) or not _NAME.match(name):
        raise DefinitionError(
            f"invalid job name {name!r}: use letters, digits and '_' (not starting with a digit)",
            source=source,
        )
    try:
        chosen = AssetSelection.all() if selection is None else coerce_selection(selection)
    except (TypeError, ValueError) as exc:
        raise DefinitionError(f"job '{name}': {exc}", source=source) from None
    return AssetJobDefinition(
        name=name,
        selection=chosen,
        description=description,
        tags=dict(tags or {}),
        config=plain_run_config(config) if config is not None else None,
        executor_def=executor_def,
        source=source,
        partitions_def=partitions_def,
        hooks=checked_hooks(hooks, f"job '{name}'", source),
        op_retry_policy=checked_retry_policy(op_retry_policy, name, source),
    )


def checked_retry_policy(
    policy: object, name: str, source: SourceLocation | None
) -> RetryPolicy | None:
    if policy is None or isinstance(policy, RetryPolicy):
        return policy
    raise DefinitionError(
        f"job '{name}': op_retry_policy must be a RetryPolicy, not a {type(policy).__name__}",
        source=source,
    )


def checked_hooks(
    hooks: Iterable[Any] | None, where: str, source: SourceLocation | None
) -> tuple[Any, ...]:
    """`hooks` as a tuple, each a `HookDefinition` (`@success_hook` / `@failure_hook`)."""
    found = tuple(hooks or ())
    for hook in found:
        if not callable(getattr(hook, "runs_on", None)):
            raise DefinitionError(
                f"{where}: hooks takes @success_hook / @failure_hook functions, got {hook!r}",
                source=source,
            )
    return found


# Dagster's name for the job a schedule or sensor builds from an asset selection it targets.
ANONYMOUS_JOB_PREFIX = "__anonymous_asset_job_"


def job_for_target(target: Any, owner: str, source: SourceLocation | None) -> AssetJobDefinition:
    """The job a schedule or sensor named `owner` runs for ``target=``: the job given, or one
    built over the assets given (a selection, a selection string, assets, specs or keys)."""
    if isinstance(target, AssetJobDefinition):
        return target
    # One asset, spec or key stands for a list of one.
    single = not isinstance(target, (str, AssetSelection, Iterable))
    try:
        selection = coerce_selection([target] if single else target)
    except (TypeError, ValueError, DefinitionError) as exc:
        raise DefinitionError(
            f"'{owner}': target= takes a job, an AssetSelection, a selection string or a list "
            f"of assets or keys ({exc})",
            source=source,
        ) from None
    return AssetJobDefinition(
        name=f"{ANONYMOUS_JOB_PREFIX}{owner}", selection=selection, source=source
    )

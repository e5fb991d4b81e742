"""What an asset step's function produced: one `Produced` per materialized key, handed on as
each arrives, and the results of the step's own checks.

A generator's outputs are handed on as it yields them, so a step that yields A and then
raises has stored and recorded A (as Dagster does), and a long step's materializations show
while it runs. A returned value is collected whole first, so a step that returns an incomplete
answer records nothing.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bakehouse.authoring.assets import AssetsDefinition
from bakehouse.authoring.results import AssetCheckResult, MaterializeResult, Output
from bakehouse.errors import ExecutionError
from bakehouse.execution.plan import Step
from bakehouse.graph.keys import AssetKey

_RESULT_TYPES = (MaterializeResult, Output, AssetCheckResult)
# An output found in what a step produced: key, value, whether it has one, metadata.
Found = tuple[AssetKey, Any, bool, Any]


@dataclass
class Produced:
    """One output of a step: its key, output name, value (if any) and metadata."""

    key: AssetKey
    output_name: str
    value: Any
    has_value: bool
    metadata: dict[str, Any]


OutputHandler = Callable[[Produced, bool], None]
"""Stores and records one output; the flag says it came from a running generator."""

CheckHandler = Callable[[AssetCheckResult], None]
"""Records one check result a running generator yielded."""


class StepOutputs:
    """Turns what a step's function returned or yielded into `Produced` outputs for `handle`,
    and collects the results of the step's checks (in a returned value), or hands those a
    generator yields to `on_check` as they come."""

    def __init__(
        self,
        step: Step,
        assets_def: AssetsDefinition,
        handle: OutputHandler,
        on_check: CheckHandler | None = None,
    ) -> None:
        self.step = step
        self.assets_def = assets_def
        self.handle = handle
        self.on_check = on_check
        self.check_results: list[AssetCheckResult] = []
        self.produced: dict[AssetKey, Produced] = {}
        self._name_to_key = {name: key for key, name in assets_def.output_names.items()}
        self._single = None if assets_def.is_multi else assets_def.keys[0]

    def consume(self, result: Any) -> list[Produced]:
        """Hand on each output of `result`; returns the outputs of a returned (not yielded)
        value, which the caller hands on once the whole answer is known to be complete."""
        if inspect.isgenerator(result):
            for item in result:
                self._add_item(item, self._single, streaming=True)
                self._hand_on_checks()
            return []
        held: list[Produced] = []
        for key, value, has_value, metadata in self._returned(result):
            held.append(self._record(key, value, has_value, metadata))
        return held

    def _hand_on_checks(self) -> None:
        if self.on_check is None:
            return
        streamed, self.check_results = self.check_results, []
        for result in streamed:
            self.on_check(result)

    def check_complete(self) -> None:
        """Raise when a required output of the step was never produced."""
        missing = [
            k
            for k in self.step.keys
            if k not in self.produced and not self.assets_def.specs_by_key[k].skippable
        ]
        if missing:
            raise ExecutionError(
                f"step '{self.step.key}' did not produce {[k.to_user_string() for k in missing]}: "
                "return or yield a value, Output or MaterializeResult for each"
            )

    def _returned(self, result: Any) -> list[Found]:
        found: list[Found] = []
        keys = self.assets_def.keys
        if self._single is not None:
            found.extend(self._unpack(result, self._single))
        elif (
            isinstance(result, tuple)
            and len(result) == len(keys)
            and not any(
                isinstance(r, (MaterializeResult, Output, AssetCheckResult)) for r in result
            )
        ):
            found.extend((key, v, v is not None, None) for key, v in zip(keys, result, strict=True))
        elif isinstance(result, (list, tuple)):
            for item in result:
                found.extend(self._unpack(item, None))
        elif result is not None:
            found.extend(self._unpack(result, None))
        return found

    def _add_item(self, item: Any, default_key: AssetKey | None, *, streaming: bool) -> None:
        for key, value, has_value, metadata in self._unpack(item, default_key):
            self.handle(self._record(key, value, has_value, metadata), streaming)

    def _unpack(
        self, item: Any, default_key: AssetKey | None
    ) -> list[tuple[AssetKey, Any, bool, Any]]:
        """The output `item` stands for (none for a check result, which is kept)."""
        step_key = self.step.key
        if isinstance(item, AssetCheckResult):
            self.check_results.append(item)
            return []
        if isinstance(item, MaterializeResult):
            self.check_results.extend(item.check_results)
            key = item.asset_key or default_key
            if key is None:
                raise ExecutionError(
                    f"step '{step_key}' makes several assets: give MaterializeResult(asset_key=...)"
                )
            return [(key, item.value, item.value is not None, item.metadata)]
        if isinstance(item, Output):
            key = (
                self._name_to_key.get(item.output_name) if self.assets_def.is_multi else default_key
            )
            if key is None:
                raise ExecutionError(
                    f"step '{step_key}' yielded Output(output_name={item.output_name!r}); "
                    f"its outputs are {sorted(self._name_to_key)}"
                )
            return [(key, item.value, item.value is not None, item.metadata)]
        if default_key is not None:
            return [(default_key, item, item is not None, None)]
        # Reached by a yielded value and by a returned one that is not a tuple of one value per
        # output, so the message names both ways of getting it right.
        outputs = ", ".join(self._name_to_key)
        raise ExecutionError(
            f"step '{step_key}' produced a value of type {type(item).__name__}; a multi-asset "
            f"returns a tuple with one value per output ({outputs}), or returns or yields Output "
            "or MaterializeResult"
        )

    def _record(
        self, key: AssetKey, value: Any, has_value: bool, metadata: Mapping[str, Any] | None
    ) -> Produced:
        if key not in self.assets_def.specs_by_key:
            defined = [k.to_user_string() for k in self.assets_def.keys]
            raise ExecutionError(
                f"step '{self.step.key}' returned a result for '{key.to_user_string()}', which it "
                f"does not define (it defines {defined})"
            )
        if key in self.produced:
            raise ExecutionError(f"step '{self.step.key}' returned '{key.to_user_string()}' twice")
        produced = Produced(
            key, self.assets_def.output_names[key], value, has_value, dict(metadata or {})
        )
        self.produced[key] = produced
        return produced

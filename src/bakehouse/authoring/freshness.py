"""`FreshnessPolicy`: how recently an asset is expected to have materialized (Dagster 1.11+).

Two kinds, as Dagster documents them: a time window (fail when the newest materialization is
older than `fail_window`, warn past `warn_window`) and a cron deadline (each tick of
`deadline_cron` expects a materialization in the `lower_bound_delta` before it). The policy is
plain data: the code server puts it in the snapshot and the host's daemon evaluates it against
storage, so no user code runs to decide freshness.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

from bakehouse.errors import DefinitionError

# Dagster refuses windows under a minute ("system constraints"); so do we, with its words.
MIN_WINDOW = dt.timedelta(seconds=60)


@dataclass(frozen=True)
class FreshnessPolicy:
    """An asset's freshness expectation; build one with `FreshnessPolicy.time_window` or
    `FreshnessPolicy.cron` and pass it as ``@asset(freshness_policy=...)``."""

    kind: str  # "time_window" or "cron"
    fail_window: dt.timedelta | None = None
    warn_window: dt.timedelta | None = None
    deadline_cron: str | None = None
    lower_bound_delta: dt.timedelta | None = None
    timezone: str = "UTC"

    @staticmethod
    def time_window(
        fail_window: dt.timedelta, warn_window: dt.timedelta | None = None
    ) -> FreshnessPolicy:
        """Fresh while the newest materialization is younger than `warn_window` (if given),
        warning until `fail_window`, failing after it."""
        _timedelta("fail_window", fail_window)
        if warn_window is not None:
            _timedelta("warn_window", warn_window)
            if warn_window >= fail_window:
                raise DefinitionError(
                    f"FreshnessPolicy.time_window: warn_window ({warn_window}) must be less than "
                    f"fail_window ({fail_window})"
                )
        return FreshnessPolicy("time_window", fail_window=fail_window, warn_window=warn_window)

    @staticmethod
    def cron(
        deadline_cron: str, lower_bound_delta: dt.timedelta, timezone: str = "UTC"
    ) -> FreshnessPolicy:
        """Expect a materialization in the `lower_bound_delta` before each tick of
        `deadline_cron` (in `timezone`); past a tick without one, the asset fails until it
        materializes again."""
        from bakehouse.graph.time_ticks import get_zone, ticks_for, validate_cron

        problem = validate_cron(deadline_cron)
        if problem is not None:
            raise DefinitionError(
                f"FreshnessPolicy.cron: deadline_cron {deadline_cron!r} is not a cron string: "
                f"{problem}"
            )
        _timedelta("lower_bound_delta", lower_bound_delta)
        try:
            zone = get_zone(timezone)
        except ValueError as exc:
            raise DefinitionError(f"FreshnessPolicy.cron: {exc}") from None
        # The window must fit between two ticks, or "materialized in the window" is ambiguous.
        ticks = ticks_for(deadline_cron, zone)
        start = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc).timestamp()
        it = ticks.at_or_after(start)
        instants = [next(it) for _ in range(60)]
        shortest = min(b - a for a, b in itertools.pairwise(instants))
        if lower_bound_delta > shortest:
            raise DefinitionError(
                f"FreshnessPolicy.cron: lower_bound_delta ({lower_bound_delta}) must fit within "
                f"the smallest interval of {deadline_cron!r} ({shortest})"
            )
        return FreshnessPolicy(
            "cron",
            deadline_cron=deadline_cron,
            lower_bound_delta=lower_bound_delta,
            timezone=timezone,
        )


def _timedelta(name: str, value: Any) -> None:
    if not isinstance(value, dt.timedelta):
        raise DefinitionError(
            f"FreshnessPolicy: {name} must be a datetime.timedelta, got {value!r}"
        )
    if value < MIN_WINDOW:
        raise DefinitionError(f"FreshnessPolicy: {name} ({value}) cannot be less than 1 minute")


def checked_policy(value: Any, where: str, source: Any = None) -> FreshnessPolicy | None:
    """`value` if it is a FreshnessPolicy or None; else a DefinitionError naming `where`."""
    if value is None or isinstance(value, FreshnessPolicy):
        return value
    raise DefinitionError(
        f"{where}: freshness_policy must be a FreshnessPolicy such as "
        f"FreshnessPolicy.time_window(fail_window=timedelta(hours=24)), got {value!r}",
        source=source,
    )

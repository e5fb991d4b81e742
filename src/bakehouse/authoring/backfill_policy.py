"""`BackfillPolicy`: how many partitions of an asset one backfill run may materialize."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BackfillPolicy:
    """How a backfill of a partitioned asset is split into runs, with Dagster's meaning.

    `single_run()`: one run materializes every partition of the backfill (the asset reads
    ``context.partition_key_range``). `multi_run(max_partitions_per_run=N)`: runs of at most N
    partitions each; ``multi_run()`` (N = 1) is one run per partition, the default for assets
    without a policy. Build them with those two constructors.
    """

    max_partitions_per_run: int | None = 1

    def __post_init__(self) -> None:
        n = self.max_partitions_per_run
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise ValueError(
                f"max_partitions_per_run must be a whole number of at least 1, got {n!r}"
            )

    @staticmethod
    def single_run() -> BackfillPolicy:
        """One run for all the partitions of a backfill."""
        return BackfillPolicy(max_partitions_per_run=None)

    @staticmethod
    def multi_run(max_partitions_per_run: int = 1) -> BackfillPolicy:
        """Runs of at most `max_partitions_per_run` partitions each."""
        return BackfillPolicy(max_partitions_per_run=max_partitions_per_run)

    @property
    def policy_type(self) -> str:
        """ "SINGLE_RUN" or "MULTI_RUN", as Dagster's `BackfillPolicyType` names them."""
        return "SINGLE_RUN" if self.max_partitions_per_run is None else "MULTI_RUN"

    def __str__(self) -> str:
        if self.max_partitions_per_run is None:
            return "BackfillPolicy.single_run()"
        return f"BackfillPolicy.multi_run(max_partitions_per_run={self.max_partitions_per_run})"

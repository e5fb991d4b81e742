# kind: asset checks taking the asset's value as a parameter, blocking, severities, multi-asset
#   checks
# uses: dagster.asset_check, dagster.AssetCheckResult, dagster.AssetCheckSeverity.WARN,
#   dagster.multi_asset_check, dagster.AssetCheckSpec, dagster.materialize
import dagster as dg


@dg.asset
def population() -> list:
    return [{"City": "A", "Population": "1"}]


@dg.asset_check(asset=population, blocking=True)
def has_rows(population: list) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=len(population) > 0)


@dg.asset_check(asset=population)
def row_count(population: list) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=True, severity=dg.AssetCheckSeverity.WARN, metadata={"rows": len(population)}
    )


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(name="has_cities", asset="population"),
        dg.AssetCheckSpec(name="has_populations", asset="population"),
    ]
)
def population_checks(population: list):
    yield dg.AssetCheckResult(check_name="has_cities", passed=all(r["City"] for r in population))
    yield dg.AssetCheckResult(check_name="has_populations", passed=True)


result = dg.materialize([population, has_rows, row_count, population_checks])
assert result.success

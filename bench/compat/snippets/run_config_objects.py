# kind: Config classes passed to materialize through a RunConfig object
# uses: dagster.RunConfig, dagster.Config, dagster.materialize, dagster.asset
import dagster as dg


class FilepathConfig(dg.Config):
    path: str


@dg.asset
def population_file(config: FilepathConfig) -> list:
    return [config.path]


@dg.asset
def total(population_file: list) -> int:
    return len(population_file)


result = dg.materialize(
    [population_file, total],
    run_config=dg.RunConfig({"population_file": FilepathConfig(path="ny.csv")}),
)
assert result.success
assert result.output_for_node("total") == 1

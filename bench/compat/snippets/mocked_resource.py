# kind: tests passing a unittest.mock object as a resource, with RunConfig for the asset's config
# uses: dagster.materialize, dagster.RunConfig, dagster.Config, dagster.ConfigurableResource
from unittest.mock import Mock

import dagster as dg


class StateConfig(dg.Config):
    name: str


class StatePopulation(dg.ConfigurableResource):
    def get_cities(self, state: str) -> list:
        raise RuntimeError("the real API is not called in tests")


@dg.asset
def state_population(config: StateConfig, state_population_resource: StatePopulation) -> list:
    return state_population_resource.get_cities(config.name)


@dg.asset
def total_population(state_population: list) -> int:
    return sum(city["population"] for city in state_population)


mocked = Mock()
mocked.get_cities.return_value = [{"city": "Fakestown", "population": 42}]
result = dg.materialize(
    [state_population, total_population],
    resources={"state_population_resource": mocked},
    run_config=dg.RunConfig({"state_population": StateConfig(name="ny")}),
)
assert result.success
assert result.output_for_node("total_population") == 42

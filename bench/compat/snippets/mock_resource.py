# kind: Definitions with ResourceDefinition.mock_resource() from a @definitions function
# uses: dagster.ResourceDefinition.mock_resource, dagster.definitions, dagster.Definitions,
#   dagster.ConfigurableResource
import dagster as dg


class StatePopulation(dg.ConfigurableResource):
    def get_cities(self, state: str) -> list:
        return [{"City": "Madison"}]


@dg.definitions
def resources():
    return dg.Definitions(
        resources={
            "state_population_resource": StatePopulation(),
            "database": dg.ResourceDefinition.mock_resource(),
        }
    )


assert resources()

# kind: a job built from GraphDefinition and DependencyDefinition instead of decorators
# uses: dagster.DependencyDefinition, dagster.GraphDefinition, dagster.op
import dagster as dg


@dg.op
def return_one(context) -> int:
    return 1


@dg.op
def add_one(context, number: int) -> int:
    return number + 1


one_plus_one = dg.GraphDefinition(
    name="one_plus_one",
    node_defs=[return_one, add_one],
    dependencies={"add_one": {"number": dg.DependencyDefinition("return_one")}},
).to_job()
assert one_plus_one.execute_in_process().output_for_node("add_one") == 2

# kind: ops wired into jobs and graphs, run with execute_in_process
# uses: dagster.op, dagster.job, dagster.graph, dagster.In, dagster.Out, dagster.OpExecutionContext,
#   dagster.graph_asset
import dagster as dg


@dg.op
def return_one(context: dg.OpExecutionContext) -> int:
    return 1


@dg.op(ins={"number": dg.In(int)}, out=dg.Out(int))
def add_one(number: int) -> int:
    return number + 1


@dg.job
def one_plus_one():
    add_one(return_one())


@dg.graph
def two_more(x):
    return add_one(add_one(x))


@dg.graph_asset
def three() -> int:
    return add_one(add_one(return_one()))


assert one_plus_one.execute_in_process().output_for_node("add_one") == 2
assert two_more.execute_in_process(input_values={"x": 1}).success
assert dg.materialize([three]).success

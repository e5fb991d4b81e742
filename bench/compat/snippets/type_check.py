# kind: a wrong return annotation failing with DagsterTypeCheckDidNotPass
# uses: dagster._core.errors.DagsterTypeCheckDidNotPass, dagster.asset, dagster.materialize
import dagster as dg
from dagster._core.errors import DagsterTypeCheckDidNotPass


@dg.asset
def wrong_type() -> int:
    return "not an int"  # type: ignore[return-value]


try:
    dg.materialize([wrong_type])
except DagsterTypeCheckDidNotPass:
    pass
else:
    raise AssertionError("no DagsterTypeCheckDidNotPass")

# kind: retrying a DuckDB connection with dagster._utils.backoff
# uses: dagster._utils.backoff.backoff, dagster.asset
import os
import tempfile

import duckdb
from dagster._utils.backoff import backoff

conn = backoff(
    fn=duckdb.connect,
    retry_on=(RuntimeError, duckdb.IOException),
    kwargs={"database": os.path.join(tempfile.mkdtemp(), "x.duckdb")},
    max_retries=10,
)
assert conn.execute("select 1").fetchone() == (1,)

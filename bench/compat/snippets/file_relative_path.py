# kind: paths next to the code with file_relative_path
# uses: dagster.file_relative_path
import os

import dagster as dg

path = dg.file_relative_path(__file__, "sling_replication.yaml")
assert path == os.path.join(os.path.dirname(__file__), "sling_replication.yaml")

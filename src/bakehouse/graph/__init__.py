"""Asset graph primitives on plain keys: keys, dependency order, cycles and selection syntax.

Nothing here imports user code or the authoring API, so both the code server (over definitions)
and the host (over snapshots) share one implementation.
"""

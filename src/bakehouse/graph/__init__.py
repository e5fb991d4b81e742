"""Asset graph primitives on plain keys: keys, dependency order, cycles and selection syntax.

Nothing here imports user code or the authoring API, so both the code server (over definitions)
and the host (over snapshots) share one implementation.
"""

from bakehouse._callable_module import make_callable

# ``import bakehouse as dg; @dg.graph`` finds this package (the import system binds it on
# ``bakehouse``), so calling it is Dagster's ``@graph``. The target is imported only when
# called, by user code: this package itself still imports nothing from the authoring API.
make_callable(__name__, "bakehouse.authoring.graphs:graph")

"""The authoring API: what users write in their code locations (assets, resources, Definitions).

Users import these names from `bakehouse` itself; this package is internal layout.
"""

"""`ConfigurableIOManager`: an IO manager configured like a resource (pydantic fields)."""

from __future__ import annotations

from bakehouse.authoring.resources import ConfigurableResource
from bakehouse.execution.io_managers import IOManager


class ConfigurableIOManager(ConfigurableResource, IOManager):
    """Subclass, declare fields, implement `handle_output` and `load_input`."""

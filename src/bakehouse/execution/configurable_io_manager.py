"""`ConfigurableIOManager` and `ConfigurableIOManagerFactory`: IO managers configured like
resources (pydantic fields)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bakehouse.authoring.context import InitResourceContext
from bakehouse.authoring.resources import ConfigurableResource
from bakehouse.execution.io_managers import IOManager


class ConfigurableIOManager(ConfigurableResource, IOManager):
    """Subclass, declare fields, implement `handle_output` and `load_input`."""


class ConfigurableIOManagerFactory(ConfigurableResource):
    """Subclass, declare fields, implement `create_io_manager`: each run stores values through
    the IO manager it returns (e.g. a `UPathIOManager` under a folder the fields name)."""

    @abstractmethod
    def create_io_manager(self, context: InitResourceContext) -> IOManager:
        """The IO manager of one run."""

    @contextmanager
    def yield_for_execution(self, context: InitResourceContext) -> Iterator[Any]:
        """Hand the run the IO manager `create_io_manager` builds."""
        self.setup_for_execution(context)
        try:
            yield self.create_io_manager(context)
        finally:
            self.teardown_after_execution(context)

"""A module that can also be called: lets ``dg.graph`` be both Dagster's ``@graph`` decorator
and the ``bakehouse.graph`` package (whose name the import system binds on ``bakehouse``)."""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any


class CallableModule(types.ModuleType):
    """A module whose call goes to the function named by its ``__call_target__``
    (``"package.module:function"``), imported only when called."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        module_name, _, function_name = str(self.__dict__["__call_target__"]).partition(":")
        return getattr(importlib.import_module(module_name), function_name)(*args, **kwargs)


def make_callable(module_name: str, target: str) -> None:
    """Make the imported module `module_name` callable as `target`."""
    module = sys.modules[module_name]
    module.__dict__["__call_target__"] = target
    module.__class__ = CallableModule

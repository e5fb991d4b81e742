"""`ErrorOut`: an error as the JSON API shows it, for every body that carries one."""

from __future__ import annotations

from bakehouse.errors import ErrorInfo
from bakehouse.serdes import Record


class ErrorOut(Record, frozen=True, kw_only=True):
    """An error as data: its type, message and the rendered traceback."""

    cls_name: str
    message: str
    traceback: str

    @classmethod
    def of(cls, error: ErrorInfo | None) -> ErrorOut | None:
        """`error`, if any, for the API."""
        if error is None:
            return None
        return cls(cls_name=error.cls_name, message=error.message, traceback=error.render())

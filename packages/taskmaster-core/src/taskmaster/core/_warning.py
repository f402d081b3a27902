"""TaskWarning: a Python warning raised while a task ran, as a plain value."""

from __future__ import annotations

import warnings
from dataclasses import dataclass


@dataclass(frozen=True)
class TaskWarning:
    """A warning that a task raised while it ran.

    It is what :meth:`Task.handle_warning` receives, the translation of the
    seed's "uncritical errors".  It holds only plain values, so it pickles.
    """

    message: str
    category: type[Warning]
    filename: str
    lineno: int

    @classmethod
    def from_message(cls, message: warnings.WarningMessage) -> TaskWarning:
        category = message.category
        if not (isinstance(category, type) and issubclass(category, Warning)):
            category = UserWarning
        return cls(str(message.message), category, message.filename, message.lineno)

    def show(self) -> None:
        """Show the warning through :func:`warnings.showwarning`, as Python would."""
        warnings.showwarning(self.message, self.category, self.filename, self.lineno)

    def __str__(self) -> str:
        return (
            f"{self.filename}:{self.lineno}: {self.category.__name__}: {self.message}"
        )

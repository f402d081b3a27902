"""TaskWarning: a Python warning raised while a task ran, as a plain value."""

from __future__ import annotations

import warnings

from ._value import FrozenValue


class TaskWarning(FrozenValue):
    """A warning that a task raised while it ran.

    It is what :meth:`Task.handle_warning` receives, the translation of the
    seed's "uncritical errors".  It holds only plain values, so it pickles,
    compares by value and cannot be changed.
    """

    __match_args__ = ("message", "category", "filename", "lineno")
    __slots__ = __match_args__

    message: str
    category: type[Warning]
    filename: str
    lineno: int

    def __init__(
        self, message: str, category: type[Warning], filename: str, lineno: int
    ) -> None:
        set_value = object.__setattr__  # FrozenValue's refuses
        set_value(self, "message", message)
        set_value(self, "category", category)
        set_value(self, "filename", filename)
        set_value(self, "lineno", lineno)

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

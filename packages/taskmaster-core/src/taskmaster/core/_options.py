"""TaskmasterOptions: how spawned workers and proxies start."""

from __future__ import annotations

import os
import sys
from typing import TypeVar


class TaskmasterOptions:
    """Where a freshly spawned worker or proxy finds Python and the user's code.

    ``bootstrap`` is a Python file run in a new interpreter before any task
    arrives; ``python_executable`` is the interpreter to start (default
    ``sys.executable``).  Workers and proxies without options of their own use
    the taskmaster's.
    """

    def __init__(
        self,
        bootstrap: str | os.PathLike[str] | None = None,
        python_executable: str | None = None,
    ) -> None:
        self._bootstrap: str | None = None
        self._python_executable: str | None = None
        if bootstrap is not None:
            self.set_bootstrap(bootstrap)
        if python_executable is not None:
            self.set_python_executable(python_executable)

    def set_bootstrap(self, path: str | os.PathLike[str] | None) -> TaskmasterOptions:
        self._bootstrap = None if path is None else os.path.abspath(os.fspath(path))
        return self

    def get_bootstrap(self) -> str | None:
        return self._bootstrap

    def set_python_executable(
        self, path: str | os.PathLike[str] | None
    ) -> TaskmasterOptions:
        self._python_executable = None if path is None else os.fspath(path)
        return self

    def get_python_executable(self) -> str:
        return self._python_executable or sys.executable

    def copy(self) -> TaskmasterOptions:
        return TaskmasterOptions(self._bootstrap, self._python_executable)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TaskmasterOptions):
            return NotImplemented
        return (self._bootstrap, self._python_executable) == (
            other._bootstrap,
            other._python_executable,
        )

    def __hash__(self) -> int:
        return hash((self._bootstrap, self._python_executable))

    def __repr__(self) -> str:
        return (
            f"TaskmasterOptions(bootstrap={self._bootstrap!r}, "
            f"python_executable={self.get_python_executable()!r})"
        )


_Holder = TypeVar("_Holder", bound="HasOptions")


class HasOptions:
    """Options of a worker or a proxy; without its own, the taskmaster's apply."""

    _options: TaskmasterOptions | None = None

    def set_options(self: _Holder, options: TaskmasterOptions | None) -> _Holder:
        if options is not None and not isinstance(options, TaskmasterOptions):
            raise TypeError(f"expected TaskmasterOptions, got {type(options).__name__}")
        self._options = options
        return self

    def get_options(self) -> TaskmasterOptions | None:
        return self._options

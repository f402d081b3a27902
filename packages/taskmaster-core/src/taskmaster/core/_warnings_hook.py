"""Route warnings raised inside a running task to its ``handle_warning``.

Python's warning machinery is process-wide, and ThreadWorker runs several
tasks in one process, so a single hook on ``warnings.showwarning`` looks up
the task running in the current thread.  Before each task the filters'
"already shown here" memory is invalidated, so every task sees its warnings
however many earlier tasks raised the same ones.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from typing import Any

_local = threading.local()
_lock = threading.Lock()


def _current() -> Callable[[warnings.WarningMessage], None] | None:
    return getattr(_local, "sink", None)


def _hook(previous: Callable[..., Any]) -> Callable[..., Any]:
    def show_warning(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: Any = None,
        line: str | None = None,
    ) -> None:
        sink = _current()
        if sink is None:
            previous(message, category, filename, lineno, file, line)
            return
        sink(warnings.WarningMessage(message, category, filename, lineno, file, line))

    show_warning.__taskmaster_hook__ = True  # type: ignore[attr-defined]
    return show_warning


def install() -> None:
    """Make sure the hook is in place (someone may have replaced it since)."""
    if getattr(warnings.showwarning, "__taskmaster_hook__", False):
        return
    with _lock:
        if not getattr(warnings.showwarning, "__taskmaster_hook__", False):
            warnings.showwarning = _hook(warnings.showwarning)


def begin(sink: Callable[[warnings.WarningMessage], None]) -> None:
    """Send this thread's warnings to ``sink`` until :func:`end`."""
    install()
    _local.sink = sink
    forget = getattr(warnings, "_filters_mutated", None)
    if forget is not None:
        forget()


def end() -> None:
    _local.sink = None

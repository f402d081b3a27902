"""Route warnings raised inside a running task to its ``handle_warning``.

Python's warning machinery is process-wide, and ThreadWorker runs several
tasks in one process, so a single hook on ``warnings.showwarning`` looks up
the task running in the current thread.

Every warning a task raises must reach it, however many tasks raised the
same one before.  Python remembers which warnings it has shown per module
and location, and a memory written by one thread silences the others, so
forgetting it when a task starts is not enough once tasks run side by side.
Instead, a filter at the front of ``warnings.filters`` turns the actions
that remember ("default", "module", "once") into "always" for a thread that
runs a task, and the hook keeps that memory per task; "ignore", "error" and
"always" stay as the filters behind it say.  The filter matches through the
objects a filter may hold: its message and module patterns record the text
and module name, and its category's ``__subclasscheck__``, which Python
asks last, decides.

Two cases keep Python's shared memory: a user filter that names a line
number (a category check is not told the line, so ours stands aside), and
warnings a task raises while it has replaced ``warnings.showwarning`` itself
(they go to that replacement, under the front filter's "always").
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from typing import Any, cast

_local = threading.local()
_lock = threading.Lock()

# The actions under which Python records a warning as shown.
_REMEMBERING = frozenset({"default", "module", "once"})


def _current() -> Callable[[warnings.WarningMessage], None] | None:
    return getattr(_local, "sink", None)


class _Recorder:
    """A filter pattern that matches anything and notes what it was shown."""

    def __init__(self, slot: str) -> None:
        self.slot = slot

    def match(self, value: str) -> bool:
        setattr(_local, self.slot, value)
        return True


class _InTaskMeta(type):
    def __subclasscheck__(cls, category: type) -> bool:
        if _current() is None:
            return False
        text = getattr(_local, "text", "")
        module = getattr(_local, "module", "")
        action = _action_behind(text, category, module)
        if action not in _REMEMBERING:
            return False

        # The hook, which Python calls next in this thread, remembers for us.
        _local.remembered = (action, text, category, module)
        return True


class _InTask(Warning, metaclass=_InTaskMeta):
    """The category of the front filter: matches a warning raised in a task
    whose action would otherwise make Python remember it."""


_FILTER = ("always", _Recorder("text"), _InTask, _Recorder("module"), 0)


def _action_behind(text: str, category: type, module: str) -> str | None:
    """The action the filters after ours give; None when it depends on the
    line number, which a filter's category check is not told."""
    for action, message, kind, where, lineno in _filters():
        if kind is _InTask:
            continue
        if not (_matches(message, text) and _matches(where, module)):
            continue
        if not issubclass(category, kind):
            continue
        return None if lineno else str(action)
    return str(warnings.defaultaction)  # type: ignore[attr-defined]


def _filters() -> list[Any]:
    """``warnings.filters``, which typeshed calls a Sequence of its own
    entries; it is the very list Python reads, and ours is not such an entry."""
    return cast(list[Any], warnings.filters)


def _matches(pattern: Any, value: str) -> bool:
    if pattern is None:
        return True
    if type(pattern) is str:
        return pattern == value
    return pattern.match(value) is not None


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

        if _shown_before(lineno):
            return
        sink(warnings.WarningMessage(message, category, filename, lineno, file, line))

    show_warning.__taskmaster_hook__ = True  # type: ignore[attr-defined]
    return show_warning


def _shown_before(lineno: int) -> bool:
    """Whether the running task already saw this warning, by the rule of the
    action that our filter replaced (none when another filter matched)."""
    remembered = getattr(_local, "remembered", None)
    if remembered is None:
        return False
    _local.remembered = None

    action, text, category, module = remembered
    if action == "once":
        key: tuple[Any, ...] = (text, category)
    elif action == "module":
        key = (text, category, module)
    else:
        key = (text, category, module, lineno)
    shown: set[tuple[Any, ...]] = _local.shown
    if key in shown:
        return True
    shown.add(key)
    return False


def install() -> None:
    """Make sure the hook and the front filter are in place (someone may
    have replaced the one or reset the other since)."""
    filters = _filters()
    hooked = getattr(warnings.showwarning, "__taskmaster_hook__", False)
    if hooked and filters and filters[0] is _FILTER:
        return
    with _lock:
        if not getattr(warnings.showwarning, "__taskmaster_hook__", False):
            warnings.showwarning = _hook(warnings.showwarning)
        filters = _filters()  # catch_warnings() may have swapped the list
        if not (filters and filters[0] is _FILTER):
            if _FILTER in filters:
                filters.remove(_FILTER)
            filters.insert(0, _FILTER)
            _forget_shown()


def begin(sink: Callable[[warnings.WarningMessage], None]) -> None:
    """Send this thread's warnings to ``sink`` until :func:`end`."""
    install()
    _local.sink = sink
    _local.shown = set()
    _local.remembered = None

    # What code outside any task (the parent before a fork, say) recorded
    # as shown would still silence the same warning here.
    _forget_shown()


def end() -> None:
    _local.sink = None
    _local.shown = None


def _forget_shown() -> None:
    forget = getattr(warnings, "_filters_mutated", None)
    if forget is not None:
        forget()

"""Readiness of the parent's descriptors: a thin layer over epoll.

The taskmaster waits on every instance's socket, every pidfd and every proxy
in one call.  ``selectors.DefaultSelector`` does that too, but builds a key
object for each ready descriptor and translates its events through several
layers of Python on every call: for one small task at a time, a tenth of the
parent's code per task.  :class:`Poller` keeps what the loop needs, each
ready descriptor's data and whether it is readable or writable, and calls
epoll directly.  Where there is no epoll (macOS, the BSDs) it wraps
``selectors.DefaultSelector``.

Registration takes the arguments of :class:`selectors.BaseSelector`, so a
:class:`~taskmaster.core._connection.Connection` works with either.
"""

from __future__ import annotations

import select
import selectors
from typing import Any, Protocol

READ = selectors.EVENT_READ
WRITE = selectors.EVENT_WRITE


class Registry(Protocol):
    """What a connection needs of whoever watches its socket."""

    def register(self, fileobj: Any, events: int, data: Any = None) -> Any: ...

    def modify(self, fileobj: Any, events: int, data: Any = None) -> Any: ...

    def unregister(self, fileobj: Any) -> Any: ...


class Poller:
    """Level-triggered readiness of registered descriptors, each with its data."""

    def __init__(self) -> None:
        self._epoll = select.epoll() if hasattr(select, "epoll") else None
        self._fallback = None if self._epoll else selectors.DefaultSelector()
        # fd -> (data, events registered)
        self._entries: dict[int, tuple[Any, int]] = {}

    def fileno(self) -> int | None:
        """The epoll descriptor (None without epoll), for the fork bookkeeping."""
        return self._epoll.fileno() if self._epoll is not None else None

    def register(self, fileobj: Any, events: int, data: Any = None) -> None:
        self._watch(fileobj, events, data, adding=True)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> None:
        self._watch(fileobj, events, data, adding=False)

    def _watch(self, fileobj: Any, events: int, data: Any, adding: bool) -> None:
        fd = _fileno(fileobj)
        if (fd in self._entries) == adding:
            state = "already" if adding else "not"
            raise KeyError(f"{fileobj!r} (fd {fd}) is {state} registered")
        if self._epoll is not None:
            change = self._epoll.register if adding else self._epoll.modify
            change(fd, _epoll_mask(events))
        else:
            assert self._fallback is not None
            if adding:
                self._fallback.register(fd, events)
            else:
                self._fallback.modify(fd, events)
        self._entries[fd] = (data, events)

    def unregister(self, fileobj: Any) -> None:
        """Forget a descriptor; KeyError if it was not registered.  One closed
        already is forgotten all the same (the kernel dropped it from epoll)."""
        fd = _fileno(fileobj)
        del self._entries[fd]
        try:
            if self._epoll is not None:
                self._epoll.unregister(fd)
            else:
                assert self._fallback is not None
                self._fallback.unregister(fd)
        except (OSError, KeyError, ValueError):
            pass

    def wait(self, timeout: float | None) -> list[tuple[Any, int]]:
        """``(data, events)`` of each ready descriptor, waiting up to
        ``timeout`` seconds (None: until one is ready, 0: not at all)."""
        epoll = self._epoll
        if epoll is None:
            assert self._fallback is not None
            ready = _select(self._fallback, timeout)
            return [(self._entries[key.fd][0], mask) for key, mask in ready]
        if timeout is None:
            timeout = -1.0
        elif timeout < 0.0:
            timeout = 0.0
        entries = self._entries
        try:
            events = epoll.poll(timeout, len(entries) or 1)
        except InterruptedError:
            return []
        found = []
        for fd, event in events:
            entry = entries.get(fd)
            if entry is not None:
                mask = READ if event == select.EPOLLIN else _events(event)
                found.append((entry[0], mask & entry[1]))
        return found

    def close(self) -> None:
        self._entries.clear()
        if self._epoll is not None:
            self._epoll.close()
        elif self._fallback is not None:
            self._fallback.close()


def _select(
    selector: selectors.BaseSelector, timeout: float | None
) -> list[tuple[selectors.SelectorKey, int]]:
    try:
        return selector.select(timeout)
    except InterruptedError:
        return []


def _fileno(fileobj: Any) -> int:
    return fileobj if isinstance(fileobj, int) else int(fileobj.fileno())


def _epoll_mask(events: int) -> int:
    return (select.EPOLLIN if events & READ else 0) | (
        select.EPOLLOUT if events & WRITE else 0
    )


def _events(event: int) -> int:
    """Readable and writable, as selectors reports them: a hang-up or an
    error is both, so whoever waits for either learns of it."""
    events = 0
    if event & ~select.EPOLLIN:
        events |= WRITE
    if event & ~select.EPOLLOUT:
        events |= READ
    return events

"""The proxy base class: a process that hosts worker instances for the parent.

A proxy speaks the same protocol as a worker, with one difference: frames
carry a channel number, one per worker instance it hosts; channel 0 is the
proxy itself (HELLO, START, TERMINATE, EXITED, STOP).  Subclasses implement
:meth:`Proxy.launch`, which starts the proxy process.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from ._options import HasOptions, TaskmasterOptions

if TYPE_CHECKING:
    from ._proxy_link import ProxyLink
    from .worker import WorkerHandle


class Proxy(HasOptions, ABC):
    """Base class of proxies.  One proxy serves many workers; the taskmaster
    starts it when a worker that uses it first needs an instance, and starts a
    new one after it died."""

    _link: ProxyLink | None = None

    @classmethod
    def is_supported(cls) -> bool:
        return True

    @abstractmethod
    def launch(self, options: TaskmasterOptions) -> WorkerHandle:
        """Start the proxy process; its handle's socket speaks the protocol."""

    def stop(self) -> Proxy:
        """End the proxy process and every worker instance on it.

        Tasks running on it fail with WorkerFailedError when the taskmaster
        next updates; the next task starts a new proxy.
        """
        link = self._link
        if link is not None:
            link.stopped = True
            link.handle.kill()
            # Gone before stop() returns, so the taskmaster notices before it
            # hands the next task to a worker that lived in this proxy.
            link.handle.wait(None)
        return self

    def __repr__(self) -> str:
        state = "running" if self._link is not None else "idle"
        return f"<{type(self).__name__} {state}>"

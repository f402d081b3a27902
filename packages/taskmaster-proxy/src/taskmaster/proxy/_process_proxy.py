"""ProcessProxy: the proxy is a freshly spawned interpreter."""

from __future__ import annotations

import os

from taskmaster.core import TaskmasterOptions
from taskmaster.core._spawn import spawn_python
from taskmaster.core.proxy import Proxy
from taskmaster.core.worker import WorkerHandle


class ProcessProxy(Proxy):
    """Hosts worker instances in a separate process started from a clean slate.

    The proxy process is ``options.get_python_executable()`` running the
    bootstrap file, with the parent's ``sys.path`` and working directory, as a
    ProcessWorker would.  Workers that use the proxy are launched inside it:
    a ForkWorker forks the proxy (single-threaded, so forking is safe even
    when the parent runs many threads), a ProcessWorker spawns from it, a
    ThreadWorker runs as a thread of it.  One proxy serves every worker that
    names it; ``add_workers(worker, n)`` shares the proxy among the copies.

    If the proxy dies or :meth:`stop` ends it while tasks run, those tasks
    fail with WorkerFailedError and the next task starts a new proxy.  Task
    classes defined in ``__main__`` travel by value, which only works when the
    proxy runs the same Python version as the parent; put task classes in an
    importable module to use another version.
    """

    @classmethod
    def is_supported(cls) -> bool:
        return hasattr(os, "posix_spawn")

    def launch(self, options: TaskmasterOptions) -> WorkerHandle:
        return spawn_python(options, "taskmaster.proxy._runtime:main")

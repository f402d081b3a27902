"""Choosing workers: by name through entry points, or by what this process can do.

Worker kinds are registered under the entry-point group ``taskmaster.workers``
and proxies under ``taskmaster.proxies``, so kinds that third parties install
are found by the same names as the built-in ones.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

from ._options import TaskmasterOptions

if TYPE_CHECKING:
    from .proxy import Proxy
    from .worker import Worker

WORKER_GROUP = "taskmaster.workers"
PROXY_GROUP = "taskmaster.proxies"


def _load(group: str, name: str, what: str) -> Any:
    # Imported here: importlib.metadata is a large import, and a spawned
    # worker, which imports this package too, never detects workers.
    from importlib.metadata import entry_points

    found = {entry.name: entry for entry in entry_points(group=group)}
    if name not in found:
        known = ", ".join(sorted(found)) or "none installed"
        raise ValueError(f"unknown {what} {name!r}; known {what}s: {known}")
    return found[name].load()


def worker_class(name: str) -> type[Worker]:
    """The worker class registered as ``name``; ValueError listing the known ones."""
    return _load(WORKER_GROUP, name, "worker")  # type: ignore[no-any-return]


def proxy_class(name: str) -> type[Proxy]:
    """The proxy class registered as ``name``; ValueError listing the known ones."""
    return _load(PROXY_GROUP, name, "proxy")  # type: ignore[no-any-return]


def default_worker_name(behind_proxy: bool = False) -> str:
    """fork where ``os.fork`` exists and the process that forks runs no other
    thread, else process where subprocesses can start, else sync.

    Behind a proxy the proxy forks, a process of its own without the caller's
    threads, so a threaded caller still gets forked workers.
    """
    if hasattr(os, "fork") and (behind_proxy or threading.active_count() == 1):
        return "fork"
    if hasattr(os, "posix_spawn"):
        return "process"
    return "sync"


def detect_workers(
    count: int, load_from_env: bool, allow_count_override: bool
) -> list[Worker]:
    """``count`` workers for ``Taskmaster.auto_detect_workers``."""
    env = os.environ if load_from_env else {}
    if allow_count_override and env.get("TASKMASTER_WORKER_COUNT"):
        count = _parse_count(env["TASKMASTER_WORKER_COUNT"])
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"the worker count is a whole number >= 1, not {count!r}")

    proxy_name = env.get("TASKMASTER_WORKER_PROXY")
    name = env.get("TASKMASTER_WORKER") or default_worker_name(bool(proxy_name))
    worker = worker_class(name)()
    if env.get("TASKMASTER_WORKER_BIN"):
        worker.set_options(
            TaskmasterOptions(python_executable=env["TASKMASTER_WORKER_BIN"])
        )
    if proxy_name:
        proxy = proxy_class(proxy_name)()
        if env.get("TASKMASTER_WORKER_PROXY_BIN"):
            proxy.set_options(
                TaskmasterOptions(python_executable=env["TASKMASTER_WORKER_PROXY_BIN"])
            )
        worker.set_proxy(proxy)

    import copy

    return [copy.copy(worker) for _ in range(count)]


def _parse_count(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(
            f"TASKMASTER_WORKER_COUNT must be a whole number, not {text!r}"
        ) from None

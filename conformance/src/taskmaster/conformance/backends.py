"""Backends: a worker class, optionally behind a proxy, and what it can do.

Every installed worker (entry points ``taskmaster.workers``) is a backend on
its own, and every worker that starts instances is also a backend behind
each installed proxy (entry points ``taskmaster.proxies``).  A worker named
as ``package.module:WorkerClass`` joins the same way.

A backend declares its :class:`Capabilities` once, here, derived from what
its worker class says of itself (:class:`~taskmaster.core.worker.InlineWorker`,
``isolates_crashes``).  Strategies read them to generate only the scenarios
a backend can run; no test skips.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, replace
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from taskmaster.core.proxy import Proxy
    from taskmaster.core.worker import Worker

WORKER_GROUP = "taskmaster.workers"
PROXY_GROUP = "taskmaster.proxies"


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do.

    ``shares_objects``: tasks run on the caller's own object, nothing is
    pickled (SyncWorker).  ``timeouts``: a task past its timeout is stopped.
    ``warnings``: warnings reach ``handle_warning``.  ``sys_exit``,
    ``os_exit``, ``crashes``: a task may end its worker that way and the
    taskmaster survives.  ``private_state``: each worker instance has its own
    module state (init tasks can leave a mark).  ``processes``: instances run
    in processes that can be killed from outside.
    """

    shares_objects: bool = False
    timeouts: bool = True
    warnings: bool = True
    sys_exit: bool = True
    os_exit: bool = True
    crashes: bool = True
    private_state: bool = True
    processes: bool = True


INLINE = Capabilities(
    shares_objects=True,
    timeouts=False,
    warnings=False,
    sys_exit=False,
    os_exit=False,
    crashes=False,
    private_state=False,
    processes=False,
)
"""A worker that runs tasks in the caller, on the caller's object."""

IN_PROCESS = Capabilities(os_exit=False, crashes=False, processes=False)
"""A worker whose instances share the caller's process (threads)."""

ISOLATED = Capabilities()
"""A worker whose instances are processes of their own."""


def capabilities_of(worker_class: type[Worker], proxied: bool) -> Capabilities:
    """The capabilities of ``worker_class``, alone or behind a proxy.

    Behind a proxy an in-process worker lives in the proxy's process, which
    the parent can kill, but a crash there would take the proxy and every
    task on it, so crashes stay out of its scenarios.
    """
    from taskmaster.core.worker import InlineWorker

    if issubclass(worker_class, InlineWorker):
        return INLINE
    if not worker_class.isolates_crashes:
        return replace(IN_PROCESS, processes=proxied)
    return ISOLATED


@dataclass(frozen=True)
class Backend:
    """A way to run tasks: a worker class, optionally behind a proxy class."""

    name: str
    worker_class: type[Worker]
    proxy_class: type[Proxy] | None
    capabilities: Capabilities

    def make_proxy(self) -> Proxy | None:
        """A new proxy for one taskmaster's workers (None without a proxy)."""
        return None if self.proxy_class is None else self.proxy_class()

    def make_worker(self, group: str | None, proxy: Proxy | None) -> Worker:
        worker = self.worker_class()
        worker.set_group(group)
        if proxy is not None:
            worker.set_proxy(proxy)
        return worker

    def __repr__(self) -> str:
        return f"backend_named({self.name!r})"


def load_class(spec: str) -> Any:
    """The object ``package.module:Name`` names."""
    module, colon, name = spec.partition(":")
    if not colon or not module or not name:
        raise ValueError(f"expected package.module:ClassName, got {spec!r}")
    target: Any = importlib.import_module(module)
    for part in name.split("."):
        target = getattr(target, part)
    return target


def _installed(group: str) -> dict[str, Any]:
    found = {}
    for entry in sorted(entry_points(group=group), key=lambda entry: entry.name):
        cls = entry.load()
        if cls.is_supported():
            found[entry.name] = cls
    return found


def backends_for(name: str, worker_class: type[Worker]) -> list[Backend]:
    """``worker_class`` alone and behind each installed proxy."""
    from taskmaster.core.worker import InlineWorker

    found = [Backend(name, worker_class, None, capabilities_of(worker_class, False))]
    if issubclass(worker_class, InlineWorker):
        return found
    for proxy_name, proxy_class in _installed(PROXY_GROUP).items():
        found.append(
            Backend(
                f"{name}+{proxy_name}",
                worker_class,
                proxy_class,
                capabilities_of(worker_class, True),
            )
        )
    return found


def installed_backends() -> list[Backend]:
    """Every installed worker, alone and behind every installed proxy."""
    found = []
    for name, worker_class in _installed(WORKER_GROUP).items():
        found += backends_for(name, worker_class)
    return found


def select_backends(extra: list[str], installed: bool = True) -> list[Backend]:
    """The installed backends (if ``installed``) and those of the workers
    named ``package.module:WorkerClass`` in ``extra``."""
    found = installed_backends() if installed else []
    for spec in extra:
        found += backends_for(spec, load_class(spec))
    return found


def backend_named(name: str) -> Backend:
    """The backend called ``name``: ``fork``, ``fork+process`` (worker behind
    proxy), ``package.module:WorkerClass``, ``package.module:WorkerClass+process``."""
    worker_name = name.rpartition("+")[0] if "+" in name else name
    if worker_name and ":" in worker_name:
        candidates = backends_for(worker_name, load_class(worker_name))
    else:
        candidates = installed_backends()
    for backend in candidates:
        if backend.name == name:
            return backend
    known = ", ".join(backend.name for backend in candidates)
    raise ValueError(f"no backend {name!r}; known: {known}")

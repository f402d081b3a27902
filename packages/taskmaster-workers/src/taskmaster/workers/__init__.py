"""taskmaster.workers: the built-in workers.

========== ===================================== ======== ===============
worker     runs a task                           timeout  crash isolation
========== ===================================== ======== ===============
sync       in the calling process                no       no
fork       in a child made by ``os.fork``        yes      yes
process    in a newly spawned interpreter        yes      yes
thread     in a thread, pickled both ways        yes      no
========== ===================================== ======== ===============

Each worker loads on first use (PEP 562): a proxy that hosts forked workers
does not import the spawning or threading machinery of the others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from taskmaster.core._lazy import lazy_names

if TYPE_CHECKING:
    from ._fork import ForkWorker
    from ._process import ProcessWorker
    from ._sync import SyncWorker
    from ._thread import ThreadWorker

__version__ = "0.1.0"

__all__ = ["ForkWorker", "ProcessWorker", "SyncWorker", "ThreadWorker"]

__getattr__, __dir__ = lazy_names(
    __name__,
    {
        "._fork": ["ForkWorker"],
        "._process": ["ProcessWorker"],
        "._sync": ["SyncWorker"],
        "._thread": ["ThreadWorker"],
    },
)

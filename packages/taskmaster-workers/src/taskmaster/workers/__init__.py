"""taskmaster.workers: the built-in workers.

========== ===================================== ======== ===============
worker     runs a task                           timeout  crash isolation
========== ===================================== ======== ===============
sync       in the calling process                no       no
fork       in a child made by ``os.fork``        yes      yes
process    in a newly spawned interpreter        yes      yes
thread     in a thread, pickled both ways        yes      no
========== ===================================== ======== ===============
"""

from ._fork import ForkWorker
from ._process import ProcessWorker
from ._sync import SyncWorker
from ._thread import ThreadWorker

__version__ = "0.1.0"

__all__ = ["ForkWorker", "ProcessWorker", "SyncWorker", "ThreadWorker"]

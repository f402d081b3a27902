"""ProcessWorker: each instance is a freshly spawned interpreter."""

from __future__ import annotations

import os

from taskmaster.core import TaskmasterOptions
from taskmaster.core._spawn import spawn_python
from taskmaster.core.worker import Worker, WorkerHandle


class ProcessWorker(Worker):
    """Runs tasks in a new interpreter: ``options.get_python_executable()``,
    after the bootstrap file, with the parent's ``sys.path`` and working
    directory.

    Safe in threaded programs, and able to use another Python installation.
    Classes defined in ``__main__`` travel by value (cloudpickle), which only
    works between the same Python versions; put task classes in an importable
    module to run them on another version.
    """

    @classmethod
    def is_supported(cls) -> bool:
        return hasattr(os, "posix_spawn")

    def launch(self, options: TaskmasterOptions) -> WorkerHandle:
        return spawn_python(options, "taskmaster.core.runtime:serve_spawned")

"""The basic example: eight one-second tasks on four workers.

From the repository root, on a machine with only Python and pip:

    python -m pip install ./packages/taskmaster-core ./packages/taskmaster-workers
    python docs/examples/basic.py

The eight tasks finish in about two seconds, not eight.
"""

import os
import time

from taskmaster.core import Task, Taskmaster


class SleepTask(Task):
    """Every task is a class; run() is the work, its return value the result."""

    def run(self) -> int:
        time.sleep(1)
        return os.getpid()


started = time.monotonic()

# The taskmaster holds the tasks and the workers; leaving the block stops it.
with Taskmaster() as taskmaster:
    taskmaster.auto_detect_workers(4)

    tasks = [SleepTask() for _ in range(8)]
    for task in tasks:
        taskmaster.run_task(task)

    taskmaster.wait()

elapsed = time.monotonic() - started
processes = {task.get_result() for task in tasks}
print(f"8 tasks took {elapsed:.1f} s in {len(processes)} worker process(es)")

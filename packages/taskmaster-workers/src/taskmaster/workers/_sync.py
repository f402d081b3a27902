"""SyncWorker: runs each task in the calling process."""

from __future__ import annotations

from taskmaster.core.worker import InlineWorker


class SyncWorker(InlineWorker):
    """Runs each task in the calling process, on the task object itself.

    A fallback where nothing else runs, and the cheapest choice when tasks
    are few.  Timeouts are not applied, warnings are not routed to
    ``handle_warning``, and a crash or ``sys.exit`` in a task ends the
    calling process; ``task.is_sync()`` is True while it runs.
    """

"""A worker that breaks the contract on purpose: its tasks return nothing.

It is a ProcessWorker whose new interpreters run a bootstrap file that
replaces every scenario task's ``run`` with one that returns None, so the
conformance suite must report it, with a regression test to replay.
"""

from __future__ import annotations

from pathlib import Path

from taskmaster.core import TaskmasterOptions
from taskmaster.core.worker import WorkerHandle
from taskmaster.workers import ProcessWorker

BOOTSTRAP = Path(__file__).with_name("forget_results.py")


class ForgetfulWorker(ProcessWorker):
    def launch(self, options: TaskmasterOptions) -> WorkerHandle:
        forgetful = options.copy()
        forgetful.set_bootstrap(BOOTSTRAP)
        return super().launch(forgetful)

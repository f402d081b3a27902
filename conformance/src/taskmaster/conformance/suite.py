"""The conformance tests, as pytest collects them for every selected backend.

Each test takes the ``taskmaster_backend`` fixture that the plugin
(:mod:`.plugin`) parametrises with the installed backends and any given with
``--taskmaster-worker``, so the same three tests run on every worker and
proxy combination:

- generated batches of scenarios, each compared with the reference model;
- the crash-case table, one named case at a time;
- the state machine that drives one taskmaster with kills and stops.

Run them on your own worker with ``taskmaster-conformance
package.module:WorkerClass`` (see :mod:`.cli`), or collect them in your own
test suite with ``from taskmaster.conformance.suite import *``.
"""

from __future__ import annotations

from .backends import Backend
from .cases import CrashCase
from .machine import check_taskmaster_machine
from .profiles import conformance_settings
from .runner import check_batch, check_scenarios

__all__ = [
    "test_crash_case",
    "test_generated_batches",
    "test_taskmaster_machine",
]


def test_generated_batches(taskmaster_backend: Backend) -> None:
    check_scenarios(taskmaster_backend, conformance_settings("batches"))


def test_crash_case(
    taskmaster_backend: Backend, taskmaster_crash_case: CrashCase
) -> None:
    check_batch(taskmaster_backend, taskmaster_crash_case.batch)


def test_taskmaster_machine(taskmaster_backend: Backend) -> None:
    check_taskmaster_machine(taskmaster_backend, conformance_settings("machine"))

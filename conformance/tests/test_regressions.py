"""Batches the suite once shrunk to, replayed on every backend they apply to.

Each is the test the suite printed, kept so that the behaviour it pins stays
put whatever hypothesis happens to generate in a later run.
"""

from __future__ import annotations

import pytest

from taskmaster.conformance import (
    Batch,
    ErrorSpec,
    Exit,
    InitSpec,
    Poison,
    Raise,
    Return,
    Scenario,
    check_batch,
)
from taskmaster.conformance.backends import Backend, installed_backends

EXITING = [b for b in installed_backends() if b.capabilities.sys_exit]


@pytest.mark.parametrize("backend", EXITING, ids=[b.name for b in EXITING])
def test_an_unloadable_task_fails_with_its_instance_dying_in_the_init_task(
    backend: Backend,
) -> None:
    # The worker would fail to unpickle task 1, but its instance runs the
    # init task first and dies in it: task 1 gets the WorkerFailedError (it
    # was first modelled as an unpickling error, found on process+process).
    check_batch(
        backend,
        Batch(
            tasks=(
                Scenario(ending=Raise(error=ErrorSpec(kind="KeyError", args=(None,)))),
                Scenario(ending=Return(value=None), fields=(("both", Poison()),)),
            ),
            workers=(None, "a"),
            init=InitSpec(mark="", ending=Exit(code=5, how="sys.exit")),
        ),
    )

"""A hypothesis state machine that drives one Taskmaster on one backend.

Rules add tasks and factories, run ``update()`` and ``wait()``, stop the
taskmaster and (where instances are processes) kill one from outside with
SIGKILL.  After every step the invariants hold: no task settles twice, no
task is returned by ``update()`` twice, and a settled task has the outcome the
model predicts, or (if it was running when a process was killed or the
taskmaster stopped) a ``WorkerFailedError``.  At the end every task has
settled exactly once and nothing is left behind: no process, no descriptor,
no thread.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from taskmaster.core import IteratorTaskFactory, Taskmaster, WorkerFailedError

from .backends import Backend
from .model import ErrorLike, Expected, expect_task, same
from .resources import Snapshot, descendants, wait_until_gone, wait_until_reaped
from .scenario import Scenario
from .strategies import machine_scenarios
from .task import ScenarioTask
from .values import reset_init_mark


@dataclass
class Tracked:
    """A task the machine added, what the model expects of it, and whether a
    kill or stop may have cut it short."""

    task: ScenarioTask
    expected: Expected
    exposed: bool = False
    checked: bool = False
    unreported: bool = False


class TaskmasterMachine(RuleBasedStateMachine):
    """The rules that every backend shares; :func:`machine_class` adds the
    ones that depend on a backend's capabilities (the scenarios it draws,
    and kills where instances are processes)."""

    backend: Backend

    def __init__(self) -> None:
        super().__init__()
        reset_init_mark()
        self.before = Snapshot()
        self.proxy = self.backend.make_proxy()
        self.taskmaster = Taskmaster()
        self.tracked: list[Tracked] = []
        self.returned: Counter[int] = Counter()
        self.seen_processes: set[Any] = set()

    @initialize(count=st.integers(1, 3))
    def add_workers(self, count: int) -> None:
        worker = self.backend.make_worker(None, self.proxy)
        self.taskmaster.add_workers(worker, count)

    def make(self, scenario: Scenario) -> ScenarioTask:
        """A tracked task for ``scenario``, its promise recording callbacks."""
        task = ScenarioTask(scenario, len(self.tracked))
        expected = expect_task(scenario, self.backend.capabilities)
        self.tracked.append(Tracked(task, expected))
        promise = task.get_promise()
        promise.then(lambda _result, settled: settled.events.append("then"))
        promise.catch(lambda _error, settled: settled.events.append("catch"))
        return task

    def unsettled(self) -> list[Tracked]:
        return [entry for entry in self.tracked if not entry.task.events]

    def expose_running(self) -> None:
        """Whatever runs now may fail with WorkerFailedError."""
        for entry in self.unsettled():
            entry.exposed = True

    def add_task(self, scenario: Scenario) -> None:
        self.taskmaster.run_task(self.make(scenario))

    def add_factory(self, scenarios: list[Scenario]) -> None:
        self.taskmaster.add_task_factory(IteratorTaskFactory(scenarios, self.make))

    @rule()
    def update(self) -> None:
        self.seen_processes |= descendants()
        for task in self.taskmaster.update():
            self.returned[getattr(task, "key", -1)] += 1

    @rule()
    def wait(self) -> None:
        """``wait()`` keeps the tasks it finishes to itself: they are never
        returned by ``update()``."""
        self.taskmaster.wait()
        # Every task not returned yet, including those a factory made during
        # the wait, has finished inside it.
        for entry in self.tracked:
            if not self.returned[entry.task.key]:
                entry.unreported = True

    @rule()
    def stop(self) -> None:
        self.expose_running()
        self.taskmaster.stop()

    def kill_one(self, data: st.DataObject) -> None:
        """SIGKILL one process below this one, and wait until it is gone."""
        processes = sorted(p for p in descendants() if p.running())
        if not processes:
            return
        victim = data.draw(st.sampled_from(processes), label="victim")
        self.seen_processes |= set(processes)
        self.expose_running()
        ours = victim.parent() == os.getpid()
        try:
            os.kill(victim.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        wait_until_gone({victim}, 10.0)
        if not ours:
            # A proxy's instance: the taskmaster learns of its death from the
            # proxy, which reaps it first.  Until then a task handed to it
            # fails, which no task made after the kill should.
            wait_until_reaped(victim, 10.0)

    # -- invariants ----------------------------------------------------------------

    @invariant()
    def settled_at_most_once(self) -> None:
        for entry in self.tracked:
            events = entry.task.events
            assert events in (
                [],
                ["handle_result", "then"],
                ["handle_error", "catch"],
            ), f"task {entry.task.key}: hooks and callbacks ran as {events}"

    @invariant()
    def returned_at_most_once(self) -> None:
        known = range(len(self.tracked))
        for key, count in self.returned.items():
            assert key in known, f"update() returned a task nobody added: {key}"
            assert count == 1, f"update() returned task {key} {count} times"

    @invariant()
    def outcomes_match_the_model(self) -> None:
        for entry in self.tracked:
            if entry.task.events and not entry.checked:
                entry.checked = True
                check_outcome(entry)

    def teardown(self) -> None:
        try:
            self.finish()
        finally:
            self.seen_processes |= descendants()
            self.taskmaster.stop()
            self.tracked.clear()
            leaks = self.before.leaks(self.seen_processes)
            assert not leaks, leaks

    def finish(self) -> None:
        """Run every task to the end; each settled once and was returned once."""
        while self.taskmaster.is_running():
            self.update()
        self.outcomes_match_the_model()
        for entry in self.tracked:
            key = entry.task.key
            assert entry.task.events, f"task {key} never settled"
            if not entry.unreported:
                count = self.returned[key]
                assert count == 1, f"update() returned task {key} {count} times"


def check_outcome(entry: Tracked) -> None:
    """The settled task's outcome is the model's, or a WorkerFailedError if
    it was exposed to a kill or a stop."""
    task = entry.task
    error = task.get_error()
    actual = task.get_result() if error is None else error
    expected = entry.expected.outcome
    if entry.exposed and isinstance(error, WorkerFailedError):
        return
    if isinstance(expected, ErrorLike):
        assert error is not None and expected.match(error), (
            f"task {task.key}: got {actual!r}, expected {expected}"
        )
    else:
        assert error is None and same(expected, actual), (
            f"task {task.key}: got {actual!r}, expected {expected!r}"
        )


def machine_class(backend: Backend) -> type[TaskmasterMachine]:
    """The state machine for ``backend``: the shared rules, scenarios drawn
    for its capabilities, and the kill rule where instances are processes."""
    caps = backend.capabilities
    scenarios = machine_scenarios(caps)
    namespace: dict[str, Any] = {
        "backend": backend,
        "add_task": rule(scenario=scenarios)(TaskmasterMachine.add_task),
        "add_factory": rule(scenarios=st.lists(scenarios, min_size=1, max_size=3))(
            TaskmasterMachine.add_factory
        ),
    }
    if caps.processes:
        namespace["kill_a_process"] = rule(data=st.data())(TaskmasterMachine.kill_one)
    name = "TaskmasterMachine_" + "".join(
        c if c.isalnum() else "_" for c in backend.name
    )
    return type(name, (TaskmasterMachine,), namespace)


def check_taskmaster_machine(backend: Backend, settings: Any = None) -> None:
    """Run the state machine against ``backend`` (with hypothesis ``settings``)."""
    machine = machine_class(backend)
    run_state_machine_as_test(machine, settings=settings)

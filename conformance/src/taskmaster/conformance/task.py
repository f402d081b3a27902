"""ScenarioTask: the one task class that acts out any scenario.

It lives in an importable module so that forked, spawned and proxied workers
(and other Python versions) load it by reference.  In the child it takes the
scenario's steps in order and records what it observes in its ``trace``
field; in the parent its ``answer`` method plays the parent's part of each
call and records what the parent saw in ``seen``, and its ``handle_*`` hooks
record the order of events.
"""

from __future__ import annotations

import faulthandler
import os
import sys
import time
import warnings
from collections import deque
from collections.abc import Callable
from typing import Any

from taskmaster.core import (
    CloneTaskFactory,
    OnBoth,
    OnChild,
    OnParent,
    Promise,
    Task,
    TaskFactory,
    TaskWarning,
    on_child,
    on_parent,
)

from .scenario import (
    FIELDS,
    AwaitCalls,
    Call,
    Crash,
    Exit,
    Hang,
    InitSpec,
    MarkInit,
    Raise,
    ReadInit,
    ReportPid,
    Return,
    Scenario,
    SetField,
    Sleep,
    Step,
    Warn,
)
from .values import get_init_mark, materialise, set_init_mark

MISSING = "<missing>"
"""What ``seen`` records for a field the parent's object does not have."""

_NOT_YET = object()

REPORTED_PIDS: set[int] = set()
"""Process ids that tasks reported to this (parent) process."""

Pending = list[tuple[int, Call, Promise[Any]]]


class ScenarioTask(Task):
    """Acts out ``scenario``; ``key`` identifies the task to whoever checks it."""

    scenario: OnChild[Scenario]
    both: OnBoth[Any]
    plain: Any
    child: OnChild[Any]
    parent: OnParent[Any]
    trace: OnBoth[list[Any]]
    handling: OnChild[bool]
    seen: OnParent[list[Any]]
    events: OnParent[list[str]]
    key: OnParent[int]

    def __init__(self, scenario: Scenario, key: int = 0) -> None:
        self.scenario = scenario
        initial = dict(scenario.fields)
        for name in FIELDS:
            setattr(self, name, materialise(initial.get(name)))
        self.trace = []
        self.handling = False
        self.seen = []
        self.events = []
        self.key = key
        if scenario.group is not None:
            self.set_group(scenario.group)
        if scenario.timeout is not None:
            self.set_timeout(scenario.timeout)

    # -- the child's part ------------------------------------------------------

    @on_child
    def run(self) -> Any:
        pending: Pending = []
        index = 0
        for step in self.scenario.steps:
            if isinstance(step, (Call, ReportPid)):
                self._call(index, step, pending)
                index += 1
            else:
                self._act(step, pending)
        self._await(pending)
        return self._end()

    def _note(self, entry: tuple[Any, ...]) -> None:
        # A new list each time: the old one may be shared with the parent
        # (SyncWorker) or with an answer that is still to be applied.
        self.trace = [*self.trace, entry]

    def _act(self, step: Step, pending: Pending) -> None:
        if isinstance(step, SetField):
            setattr(self, step.name, materialise(step.value))
        elif isinstance(step, AwaitCalls):
            self._await(pending)
        elif isinstance(step, Warn):
            self.handling = step.handled
            warnings.warn(step.text, step.category_class(), stacklevel=1)
        elif isinstance(step, Sleep):
            time.sleep(step.seconds)
        elif isinstance(step, ReadInit):
            self._note(("init", get_init_mark()))
        elif isinstance(step, MarkInit):
            set_init_mark(step.value)

    def _call(self, index: int, step: Call | ReportPid, pending: Pending) -> None:
        if isinstance(step, ReportPid):
            self.call(self.note_pid, os.getpid())
            return
        try:
            value = self._send(index, step, pending)
        except Exception as error:
            self._note(("raised", index, type(error).__name__, error.args))
            if step.propagate:
                raise
            return
        if value is not _NOT_YET:
            self._note(("answer", index, value))

    def _send(self, index: int, step: Call, pending: Pending) -> Any:
        """Send the call; its value if the step waits for it now."""
        args = materialise(step.args)
        if step.wait == "now":
            return self.call(self.answer, index, *args)
        promise = self.call_async(self.answer, index, *args)
        if step.wait == "async":
            return promise.wait()
        if step.wait == "later":
            pending.append((index, step, promise))
        return _NOT_YET

    def _await(self, pending: Pending) -> None:
        while pending:
            index, step, promise = pending.pop(0)
            try:
                value = promise.wait()
            except Exception as error:
                self._note(("raised", index, type(error).__name__, error.args))
                if step.propagate:
                    raise
                continue
            self._note(("answer", index, value))

    def _end(self) -> Any:
        ending = self.scenario.ending
        if isinstance(ending, Return):
            return materialise(ending.value)
        if isinstance(ending, Raise):
            raise ending.error.build()
        if isinstance(ending, Exit):
            _exit(ending)
        if isinstance(ending, Crash):
            self._segfault()
        if isinstance(ending, Hang):
            while True:
                time.sleep(0.005)
        raise TypeError(f"not an ending: {ending!r}")

    def _segfault(self) -> None:
        """Crash the interpreter; its faulthandler report must name this function."""
        faulthandler._sigsegv()  # type: ignore[attr-defined]

    def handle_warning(self, warning: TaskWarning) -> bool:
        texts = {step.text for step in self.scenario.steps if isinstance(step, Warn)}
        if warning.message not in texts:
            return False
        category = warning.category.__name__
        self._note(("warning", warning.message, category, self.handling))
        return self.handling

    # -- the parent's part -----------------------------------------------------

    @on_parent
    def answer(self, index: int, *args: Any) -> Any:
        """The parent's side of call ``index``: record, set fields, answer."""
        step = self.scenario.calls()[index]
        assert isinstance(step, Call)
        self.seen.append((index, args, self.visible()))
        for name, value in step.answer.sets:
            setattr(self, name, materialise(value))
        if step.answer.error is not None:
            raise step.answer.error.build()
        return materialise(step.answer.value)

    @on_parent
    def note_pid(self, pid: int) -> None:
        REPORTED_PIDS.add(pid)

    def visible(self) -> tuple[Any, ...]:
        """The fields as this side sees them now."""
        return tuple(self.__dict__.get(name, MISSING) for name in FIELDS)

    def handle_result(self, result: Any) -> None:
        self.events.append("handle_result")
        super().handle_result(result)

    def handle_error(self, error: Exception) -> None:
        self.events.append("handle_error")
        super().handle_error(error)

    def __repr__(self) -> str:
        return f"<ScenarioTask {self.key}>"


def _exit(ending: Exit) -> None:
    if ending.how == "os._exit":
        os._exit(ending.code)
    sys.exit(ending.code)


def init_scenario(spec: InitSpec, group: str | None) -> Scenario:
    """The scenario of an init task for a worker of ``group``."""
    mark = f"group:{group}" if spec.per_group else spec.mark
    return Scenario(steps=(MarkInit(mark),), ending=spec.ending)


def init_factory(spec: InitSpec, group: str | None) -> CloneTaskFactory:
    """Init tasks for workers of ``group``: copies of one template task."""
    return CloneTaskFactory(ScenarioTask(init_scenario(spec, group)))


class ScenarioFactory(TaskFactory):
    """Makes the task of the next scenario of a group when a worker of that
    group asks; ``make`` turns a scenario into a task (and registers it)."""

    def __init__(
        self, scenarios: list[Scenario], make: Callable[[Scenario], ScenarioTask]
    ) -> None:
        self._pending: dict[str | None, deque[Scenario]] = {}
        for scenario in scenarios:
            self._pending.setdefault(scenario.group, deque()).append(scenario)
        self._make = make

    def get_groups(self) -> list[str | None] | None:
        return list(self._pending)

    def create_next_task(self, group: str | None) -> ScenarioTask | None:
        queue = self._pending.get(group)
        if not queue:
            return None
        return self._make(queue.popleft())
